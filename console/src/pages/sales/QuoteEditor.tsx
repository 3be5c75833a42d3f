// The quote editor (报价): a new quote, or a quote in progress edited. Lines are picked from the offerings
// sellable at this node; the unit price is the offering's list tariff; the totals shown while editing are
// an estimate (the pure quoteTotals), the server's are what the quote shows once saved. A 422 naming a
// line (a retired or unavailable offering, a discount above the rule's maximum) is shown at that line.
// A new quote may be linked to one of the chosen customer's open opportunities (picked from a list).
import { Alert, App, Button, Card, Col, DatePicker, Descriptions, Form, Input, InputNumber, Row, Select, Space, Spin, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { Customer } from "../../api/types";
import { nodeInfo } from "../../env";
import { PRICES, SELLABLE } from "./Catalog";
import { draftLines, formLines, listPrice, quoteFieldPath, quoteItems, quoteTotals, rawFieldErrors, type FormLine, type Offering, type Price, type Quote } from "./deals";
import { formatMoney, OPEN_STAGES, type Opportunity } from "./logic";
import { OPPORTUNITIES } from "./OpportunityList";
import { QUOTE, QUOTES } from "./QuoteList";

const CUSTOMERS = "/tmf-api/customerManagement/v4/customer";

const lineAmount = (l: { amount: string } | null | undefined, unit: string) => (l ? { unit, value: l.amount } : null);

interface Values {
  number: string;
  name: string;
  customer: string;
  opportunity?: string;
  validUntil?: Dayjs | null;
  description?: string;
  quoteItem: FormLine[];
}

export default function QuoteEditor() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const { id } = useParams();
  const [form] = Form.useForm<Values>();
  const lines = Form.useWatch("quoteItem", form);
  const customer = Form.useWatch("customer", form);
  const [opportunities, setOpportunities] = useState<Opportunity[]>([]);
  const [quote, setQuote] = useState<Quote | null>(null);
  const [offerings, setOfferings] = useState<Offering[]>([]);
  const [customers, setCustomers] = useState<Customer[]>([]);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const searchSeq = useRef(0);

  const searchCustomers = (q: string) => {
    const seq = ++searchSeq.current;
    api
      .get<Customer[]>(CUSTOMERS, { query: { q: q.trim() || undefined, limit: 20, sort: "name" } })
      .then((r) => {
        if (seq === searchSeq.current) setCustomers(r.data);
      })
      .catch(() => undefined);
  };

  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Offering[]>(SELLABLE, { query: { node: nodeInfo()?.code, limit: 1000 }, signal: ctrl.signal })
      .then((r) => setOfferings(r.data))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    if (!id) searchCustomers("");
    return () => ctrl.abort();
  }, [id, message]);

  useEffect(() => {
    if (!id) return;
    const ctrl = new AbortController();
    api
      .get<Quote>(QUOTE, { path: { quote_id: id }, signal: ctrl.signal })
      .then((r) => {
        const q = r.data;
        setQuote(q);
        const cid = q.customer?.id ?? "";
        setCustomers([{ id: cid, name: q.customer?.name ?? cid } as Customer]);
        form.setFieldsValue({
          number: q.number,
          name: q.name,
          customer: cid,
          opportunity: q.opportunity?.id,
          validUntil: q.validUntil ? dayjs(q.validUntil) : null,
          description: q.description ?? undefined,
          quoteItem: formLines(q.quoteItem),
        });
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setFormError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [id, form]);

  // the chosen customer's open opportunities (a new quote links one of them; an edited one shows its link)
  useEffect(() => {
    setOpportunities([]);
    if (!customer || quote) return;
    const ctrl = new AbortController();
    api
      .get<Opportunity[]>(OPPORTUNITIES, { query: { "customer.id": customer, stage: OPEN_STAGES.join(","), sort: "name", limit: 100 }, signal: ctrl.signal })
      .then((r) => setOpportunities(r.data))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [customer, quote, message]);

  /** An offering picked for line `i`: its list tariff becomes the line's unit price. */
  const pick = async (i: number, offeringId: string) => {
    const o = offerings.find((x) => x.id === offeringId);
    const ids = (o?.productOfferingPrice ?? []).map((p) => p.id);
    let price = null;
    if (ids.length) {
      const r = await api.get<Price[]>(PRICES, { query: { id: ids.join(","), limit: ids.length } }).catch(() => null);
      price = r ? listPrice(r.data) : null;
    }
    const current = form.getFieldValue(["quoteItem", i]) as FormLine;
    form.setFieldValue(["quoteItem", i], { ...current, offeringId, unitPrice: price?.value ?? current.unitPrice ?? null, unit: price?.unit ?? current.unit ?? "CNY" });
    if (!price) form.setFields([{ name: ["quoteItem", i, "unitPrice"], errors: [t("salesDeals.noListPrice")] }]);
  };

  async function submit(v: Values) {
    setBusy(true);
    setFormError(null);
    const body = {
      name: v.name,
      description: v.description || undefined,
      validUntil: v.validUntil ? v.validUntil.format("YYYY-MM-DD") : undefined,
      quoteItem: quoteItems(v.quoteItem),
    };
    try {
      const r = quote
        ? await api.patch<Quote>(QUOTE, { path: { quote_id: quote.id }, body })
        : await api.post<Quote>(QUOTES, { body: { ...body, number: v.number, customer: { id: v.customer }, opportunity: v.opportunity ? { id: v.opportunity } : undefined } });
      message.success(t("salesDeals.saved"));
      navigate(`/sales/quotes/${r.data.id}`);
    } catch (e) {
      if (e instanceof ApiError) {
        const placed = rawFieldErrors(e.body).map((f) => ({ path: quoteFieldPath(f.field), message: f.message }));
        form.setFields(placed.filter((p) => p.path).map((p) => ({ name: p.path as never, errors: [p.message] })));
        if (placed.length === 0 || placed.some((p) => !p.path)) setFormError(e.message);
      } else setFormError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const loading = !!id && !quote && !formError; // the form stays mounted (its values are set when the quote comes)
  const totals = quoteTotals(draftLines(lines));
  const currency = totals.currency ?? "CNY";
  const req = (field: string) => [{ required: true, message: t("login.required", { field }) }];
  return (
    <Spin spinning={loading}>
      <Card title={quote ? `${t("salesDeals.editQuote")} · ${quote.number ?? ""} v${quote.quoteVersion ?? 1}` : t("salesDeals.newQuote")} data-testid="quote-form" extra={<Button onClick={() => navigate(-1)}>{t("common.back")}</Button>}>
        {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
        <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ quoteItem: [{ quantity: 1, discountPercent: 0, unit: "CNY" }] }}>
          <Row gutter={16}>
            <Col span={6}>
              <Form.Item name="number" label={t("salesDeals.number")} rules={req(t("salesDeals.number"))}>
                <Input maxLength={64} disabled={!!quote} data-testid="field-number" />
              </Form.Item>
            </Col>
            <Col span={10}>
              <Form.Item name="name" label={t("salesDeals.name")} rules={req(t("salesDeals.name"))}>
                <Input maxLength={200} data-testid="field-name" />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="customer" label={t("salesDeals.customer")} rules={req(t("salesDeals.customer"))}>
                <Select
                  showSearch
                  disabled={!!quote}
                  filterOption={false}
                  onSearch={searchCustomers}
                  onChange={() => form.setFieldValue("opportunity", undefined)}
                  options={customers.map((c) => ({ value: c.id, label: c.customerCode ? `${c.name} · ${c.customerCode}` : c.name }))}
                  data-testid="field-customer"
                />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="opportunity" label={t("salesDeals.linkedOpportunity")} extra={quote ? undefined : t("salesDeals.opportunityHint")}>
                <Select
                  allowClear
                  showSearch
                  optionFilterProp="label"
                  disabled={!!quote || !customer}
                  placeholder={t("salesDeals.pickOpportunity")}
                  notFoundContent={t("salesDeals.noOpenOpportunity")}
                  options={
                    quote
                      ? quote.opportunity
                        ? [{ value: quote.opportunity.id, label: quote.opportunity.name ?? quote.opportunity.id }]
                        : []
                      : opportunities.map((o) => ({ value: o.id, label: `${o.name} · ${t(`salesPipeline.stages.${o.stage}`, { defaultValue: o.stage })} · ${formatMoney(o.expectedAmount)}` }))
                  }
                  data-testid="field-opportunity"
                />
              </Form.Item>
            </Col>
            <Col span={6}>
              <Form.Item name="validUntil" label={t("salesDeals.validUntil")}>
                <DatePicker style={{ width: "100%" }} data-testid="field-validUntil" />
              </Form.Item>
            </Col>
            <Col span={10}>
              <Form.Item name="description" label={t("salesDeals.description")}>
                <Input maxLength={4000} />
              </Form.Item>
            </Col>
          </Row>
          <Typography.Title level={5}>{t("salesDeals.lines")}</Typography.Title>
          <Form.List name="quoteItem">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f, i) => (
                  <Row gutter={8} key={f.key} data-testid="quote-line" align="top">
                    <Col span={9}>
                      <Form.Item name={[f.name, "offeringId"]} label={i === 0 ? t("salesDeals.offering") : undefined} rules={req(t("salesDeals.offering"))}>
                        <Select
                          showSearch
                          optionFilterProp="label"
                          placeholder={t("salesDeals.pickOffering")}
                          options={offerings.map((o) => ({ value: o.id, label: `${o.name ?? o.id}${o.isBundle ? ` · ${t("salesDeals.bundle")}` : ""}` }))}
                          onChange={(v: string) => void pick(f.name, v)}
                          data-testid="line-offering"
                        />
                      </Form.Item>
                    </Col>
                    <Col span={3}>
                      <Form.Item name={[f.name, "quantity"]} label={i === 0 ? t("salesDeals.quantity") : undefined} rules={req(t("salesDeals.quantity"))}>
                        <InputNumber min={1} precision={0} style={{ width: "100%" }} data-testid="line-quantity" />
                      </Form.Item>
                    </Col>
                    <Col span={4}>
                      <Form.Item name={[f.name, "unitPrice"]} label={i === 0 ? t("salesDeals.unitPrice") : undefined} rules={req(t("salesDeals.unitPrice"))}>
                        <Input prefix={(lines?.[i]?.unit as string | undefined) ?? "CNY"} data-testid="line-unitPrice" />
                      </Form.Item>
                      <Form.Item name={[f.name, "unit"]} hidden>
                        <Input />
                      </Form.Item>
                    </Col>
                    <Col span={3}>
                      <Form.Item name={[f.name, "discountPercent"]} label={i === 0 ? t("salesDeals.discountPercent") : undefined}>
                        <InputNumber<string> min="0" max="100" step="0.5" stringMode style={{ width: "100%" }} data-testid="line-discount" />
                      </Form.Item>
                    </Col>
                    <Col span={3} style={{ textAlign: "right", paddingTop: i === 0 ? 36 : 6 }}>
                      <span data-testid="line-amount">{formatMoney(lineAmount(totals.lines[i], currency))}</span>
                    </Col>
                    <Col span={2} style={{ paddingTop: i === 0 ? 30 : 0 }}>
                      <Button danger type="link" disabled={fields.length <= 1} onClick={() => remove(f.name)}>
                        {t("salesDeals.removeLine")}
                      </Button>
                    </Col>
                  </Row>
                ))}
                <Button type="dashed" onClick={() => add({ quantity: 1, discountPercent: 0, unit: "CNY" })} style={{ marginBottom: 16 }} data-testid="add-line">
                  {t("salesDeals.addLine")}
                </Button>
              </>
            )}
          </Form.List>
          <Descriptions size="small" bordered column={4} title={<Typography.Text type="secondary">{t("salesDeals.estimate")}</Typography.Text>} data-testid="quote-estimate">
            <Descriptions.Item label={t("salesDeals.subtotal")}>{formatMoney({ unit: currency, value: totals.subtotal })}</Descriptions.Item>
            <Descriptions.Item label={t("salesDeals.discountAmount")}>{formatMoney({ unit: currency, value: totals.discount })}</Descriptions.Item>
            <Descriptions.Item label={t("salesDeals.total")}>
              <span data-testid="estimate-total">{formatMoney({ unit: currency, value: totals.total })}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t("salesDeals.maxDiscount")}>{totals.maxDiscountPercent}%</Descriptions.Item>
          </Descriptions>
          <Space style={{ marginTop: 16 }}>
            <Button type="primary" htmlType="submit" loading={busy} data-testid="save-quote">
              {t("salesDeals.save")}
            </Button>
            <Button onClick={() => navigate(-1)}>{t("salesDeals.cancel")}</Button>
          </Space>
        </Form>
      </Card>
    </Spin>
  );
}
