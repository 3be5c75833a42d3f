// One contract: number, version, signed date, amount, terms, period and days left, the linked quote and
// opportunity, the SLA reference, the renewal status and the version chain (every version of its number);
// the actions the API allows (agreementActions): sign, renew (a new version), not renewed, terminate, cancel.
import { App, Button, Card, DatePicker, Descriptions, Form, Input, Modal, Result, Space, Spin, Table, Tag, Typography, type TableProps } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError, applyFieldErrors } from "../../api/errors";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { agreementActions, renewalPeriod, todayUtc, type Agreement, type AgreementAction } from "./deals";
import { formatMoney } from "./logic";
import { useCustomerNames } from "./OpportunityList";
import { AGREEMENT, AGREEMENTS, AgreementStatusTag, DaysLeft, RenewalTag } from "./ContractList";

const RENEW = "/tmf-api/agreementManagement/v4/agreement/{agreement_id}/renew" as const;

interface RenewValues {
  start: Dayjs;
  end: Dayjs;
  amount?: string;
  terms?: string;
}

export default function ContractDetail() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const { id = "" } = useParams();
  const [agreement, setAgreement] = useState<Agreement | null>(null);
  const [versions, setVersions] = useState<Agreement[]>([]);
  const customers = useCustomerNames(agreement ? [agreement] : []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [modal, setModal] = useState<"renew" | "sign" | null>(null);
  const [renewForm] = Form.useForm<RenewValues>();
  const [signForm] = Form.useForm<{ signedDate: Dayjs }>();
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    (async () => {
      const a = (await api.get<Agreement>(AGREEMENT, { path: { agreement_id: id }, signal: ctrl.signal })).data;
      setAgreement(a);
      setError(null);
      if (a.number) {
        const v = await api.get<Agreement[]>(AGREEMENTS, { query: { number: a.number, ownerNode: a.ownerNode, sort: "agreementVersion", limit: 100 }, signal: ctrl.signal });
        setVersions(v.data);
      }
    })().catch((e: unknown) => {
      if (ctrl.signal.aborted) return;
      setError(e instanceof ApiError && e.status === 404 ? t("salesDeals.notFound") : e instanceof Error ? e.message : String(e));
    });
    return () => ctrl.abort();
  }, [id, reloads, t]);

  if (error) return <Result status="warning" title={error} extra={<Button onClick={() => navigate("/sales/contracts")}>{t("common.back")}</Button>} />;
  if (!agreement) return <Spin />;
  const a = agreement;
  const actions = agreementActions(a, session?.claims, nodeInfo()?.code);

  const patch = async (action: AgreementAction, body: Record<string, unknown>) => {
    setBusy(action);
    try {
      const r = await api.patch<Agreement>(AGREEMENT, { path: { agreement_id: a.id }, body });
      message.success(t("salesDeals.actionDone", { action: t(`salesDeals.agreementActions.${action}`) }));
      setAgreement(r.data);
      setModal(null);
      reload();
    } catch (e) {
      const left = action === "sign" ? applyFieldErrors(signForm, e, ["signedDate"]) : e instanceof Error ? e.message : String(e);
      if (left) message.error(left);
    } finally {
      setBusy(null);
    }
  };

  const run = (action: AgreementAction) => {
    if (action === "renew") {
      const p = renewalPeriod(a.agreementPeriod);
      renewForm.setFieldsValue({ start: p ? dayjs(p.startDateTime) : undefined, end: p ? dayjs(p.endDateTime) : undefined, amount: a.amount ? String(a.amount.value) : undefined, terms: a.terms ?? undefined });
      setModal("renew");
    } else if (action === "sign") {
      signForm.setFieldsValue({ signedDate: dayjs(todayUtc()) });
      setModal("sign");
    } else if (action === "notRenewed") void patch(action, { renewalStatus: "notRenewed" });
    else void patch(action, { status: action === "terminate" ? "terminated" : "cancelled" });
  };

  const renew = async (v: RenewValues) => {
    setBusy("renew");
    try {
      const r = await api.post<Agreement>(RENEW, {
        path: { agreement_id: a.id },
        body: {
          agreementPeriod: { startDateTime: v.start.format("YYYY-MM-DD"), endDateTime: v.end.format("YYYY-MM-DD") },
          amount: v.amount ? { unit: a.amount?.unit ?? "CNY", value: v.amount } : undefined,
          terms: v.terms || undefined,
        },
      });
      message.success(t("salesDeals.renewed", { version: r.data.agreementVersion }));
      setModal(null);
      navigate(`/sales/contracts/${r.data.id}`);
    } catch (e) {
      const rename = (f: string) => (f === "agreementPeriod" ? "start" : f);
      const left = applyFieldErrors(renewForm, e, ["start", "amount", "terms"], rename);
      if (left) message.error(left);
    } finally {
      setBusy(null);
    }
  };

  const chain: TableProps<Agreement>["columns"] = [
    { key: "version", title: t("salesDeals.agreementVersion"), render: (_, r) => (r.id === a.id ? <b>v{r.agreementVersion}</b> : <Link to={`/sales/contracts/${r.id}`}>v{r.agreementVersion}</Link>) },
    { key: "status", title: t("salesDeals.status"), render: (_, r) => <AgreementStatusTag status={r.status} /> },
    { key: "period", title: t("salesDeals.agreementPeriod"), render: (_, r) => `${r.agreementPeriod?.startDateTime ?? "…"} – ${r.agreementPeriod?.endDateTime ?? "…"}` },
    { key: "amount", title: t("salesDeals.amountLabel"), align: "right", render: (_, r) => formatMoney(r.amount) },
    { key: "renewal", title: t("salesDeals.renewalStatus"), render: (_, r) => <RenewalTag status={r.renewalStatus} /> },
  ];
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="contract-detail">
      <Card
        title={
          <Space>
            {`${a.number ?? ""} v${a.agreementVersion ?? 1} · ${a.name ?? ""}`} <AgreementStatusTag status={a.status} />
          </Space>
        }
        extra={<Button onClick={() => navigate("/sales/contracts")}>{t("common.back")}</Button>}
      >
        <Descriptions column={3} size="small" bordered>
          <Descriptions.Item label={t("salesDeals.contractNumber")}>{a.number}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.customer")}>{customers[a.customer?.id ?? ""] ?? a.customer?.id ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.signedDate")}>{a.signedDate ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.amountLabel")}>{formatMoney(a.amount)}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.agreementPeriod")}>
            {a.agreementPeriod?.startDateTime} – {a.agreementPeriod?.endDateTime}
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.daysLeft")}>{a.status === "signed" ? <DaysLeft end={a.agreementPeriod?.endDateTime} /> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.renewalStatus")}>
            <RenewalTag status={a.renewalStatus} />
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.linkedQuote")}>{a.quote?.id ? <Link to={`/sales/quotes/${a.quote.id}`}>{a.quote.id}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.linkedOpportunity")}>{a.opportunity?.id ? <Link to={`/sales/opportunities/${a.opportunity.id}`}>{a.opportunity.id}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.slaReference")}>{a.slaReference ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.previousAgreement")}>{a.previousAgreement?.id ? <Link to={`/sales/contracts/${a.previousAgreement.id}`}>v{(a.agreementVersion ?? 2) - 1}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.renewedBy")}>{a.renewedBy?.id ? <Link to={`/sales/contracts/${a.renewedBy.id}`}>v{(a.agreementVersion ?? 1) + 1}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.ownerNode")}>
            <Tag>{a.ownerNode}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.accountManager")}>{a.accountManager}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.updatedAt")}>
            {a.updatedAt ? formatTime(a.updatedAt) : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.terms")} span={3}>
            <Typography.Paragraph style={{ whiteSpace: "pre-wrap", margin: 0 }}>{a.terms ?? "—"}</Typography.Paragraph>
          </Descriptions.Item>
        </Descriptions>
        {actions.length > 0 && (
          <Space wrap style={{ marginTop: 16 }} data-testid="contract-actions">
            {actions.map((x) => (
              <Button key={x} type={x === "renew" || x === "sign" ? "primary" : "default"} danger={x === "terminate" || x === "cancel"} loading={busy === x} onClick={() => run(x)} data-testid={`contract-${x}`}>
                {t(`salesDeals.agreementActions.${x}`)}
              </Button>
            ))}
          </Space>
        )}
      </Card>
      <Card title={t("salesDeals.versions")} size="small">
        <Table<Agreement> rowKey="id" size="small" pagination={false} dataSource={versions} columns={chain} data-testid="contract-versions" />
      </Card>
      <Modal open={modal === "renew"} title={t("salesDeals.renewTitle")} onCancel={() => setModal(null)} onOk={() => renewForm.submit()} confirmLoading={busy === "renew"} okButtonProps={{ id: "renew-ok" }} forceRender>
        <Form form={renewForm} layout="vertical" onFinish={(v) => void renew(v)}>
          <Form.Item name="start" label={t("salesDeals.start")} rules={[{ required: true }]}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item name="end" label={t("salesDeals.end")} rules={[{ required: true }]}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
          <Form.Item name="amount" label={`${t("salesDeals.amountLabel")} (${a.amount?.unit ?? "CNY"})`}>
            <Input />
          </Form.Item>
          <Form.Item name="terms" label={t("salesDeals.terms")}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={modal === "sign"} title={t("salesDeals.signTitle")} onCancel={() => setModal(null)} onOk={() => signForm.submit()} confirmLoading={busy === "sign"} forceRender>
        <Form form={signForm} layout="vertical" onFinish={(v) => void patch("sign", { status: "signed", signedDate: v.signedDate.format("YYYY-MM-DD") })}>
          <Form.Item name="signedDate" label={t("salesDeals.signedDate")} rules={[{ required: true }]}>
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
