// One quote: its lines and the server's totals, the approval state, the version chain, the actions the
// API allows for its state and this user (quoteActions), and the PDF / XLSX documents.
import { Alert, App, Button, Card, Descriptions, Input, Modal, Result, Space, Spin, Table, Tag, type TableProps } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api, download } from "../../api/client";
import { ApiError } from "../../api/errors";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { quoteActions, type Quote, type QuoteAction, type QuoteItem } from "./deals";
import { formatMoney } from "./logic";
import { useCustomerNames } from "./OpportunityList";
import { QUOTE, QuoteStateTag } from "./QuoteList";
import { OPPORTUNITY } from "./StageForm";

const DOCUMENT = "/tmf-api/quoteManagement/v4/quote/{quote_id}/document" as const;
const OPERATIONS = {
  submit: "/tmf-api/quoteManagement/v4/quote/{quote_id}/submit",
  approve: "/tmf-api/quoteManagement/v4/quote/{quote_id}/approve",
  reject: "/tmf-api/quoteManagement/v4/quote/{quote_id}/reject",
  revise: "/tmf-api/quoteManagement/v4/quote/{quote_id}/revise",
} as const;

export default function QuoteDetail() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const { id = "" } = useParams();
  const [quote, setQuote] = useState<Quote | null>(null);
  const [names, setNames] = useState<Record<string, string>>({});
  const customers = useCustomerNames(quote ? [quote] : []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [deciding, setDeciding] = useState<"approve" | "reject" | null>(null);
  const [note, setNote] = useState("");
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Quote>(QUOTE, { path: { quote_id: id }, signal: ctrl.signal })
      .then((r) => {
        setQuote(r.data);
        setError(null);
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(e instanceof ApiError && e.status === 404 ? t("salesDeals.notFound") : e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [id, reloads, t]);

  // the linked opportunity's name (the quote keeps only the reference; a deal out of scope shows its id)
  const opportunityId = quote?.opportunity?.id;
  const [opportunityName, setOpportunityName] = useState<string | null>(null);
  useEffect(() => {
    setOpportunityName(null);
    if (!opportunityId) return;
    const ctrl = new AbortController();
    api
      .get<{ name: string }>(OPPORTUNITY, { path: { opportunity_id: opportunityId }, query: { fields: "id,name" }, signal: ctrl.signal })
      .then((r) => setOpportunityName(r.data.name))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [opportunityId]);

  // the lines' offering names (a line keeps only the reference)
  const offeringIds = [...new Set((quote?.quoteItem ?? []).map((it) => it.productOffering.id))].sort().join(",");
  useEffect(() => {
    if (!offeringIds) return;
    const ctrl = new AbortController();
    api
      .get<{ id: string; name: string }[]>("/tmf-api/productCatalogManagement/v4/productOffering", { query: { id: offeringIds, fields: "id,name", limit: offeringIds.split(",").length }, signal: ctrl.signal })
      .then((r) => setNames(Object.fromEntries(r.data.map((o) => [o.id, o.name]))))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [offeringIds]);

  if (error) return <Result status="warning" title={error} extra={<Button onClick={() => navigate("/sales/quotes")}>{t("common.back")}</Button>} />;
  if (!quote) return <Spin />;
  const q = quote;
  const actions = quoteActions(q, session?.claims, nodeInfo()?.code);

  const run = async (action: QuoteAction, body?: unknown) => {
    setBusy(action);
    try {
      if (action === "edit") {
        navigate(`/sales/quotes/${q.id}/edit`);
        return;
      }
      const path = { quote_id: q.id };
      let next: Quote;
      if (action === "accept" || action === "cancel") next = (await api.patch<Quote>(QUOTE, { path, body: { state: action === "accept" ? "accepted" : "cancelled" } })).data;
      else next = (await api.post<Quote>(OPERATIONS[action], { path, body })).data;
      message.success(t("salesDeals.actionDone", { action: t(`salesDeals.quoteActions.${action}`) }));
      if (next.id !== q.id) navigate(`/sales/quotes/${next.id}`);
      else setQuote(next);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
      reload();
    } finally {
      setBusy(null);
      setDeciding(null);
      setNote("");
    }
  };

  const save = (format: "pdf" | "xlsx") =>
    download(DOCUMENT, { format }, `${q.number ?? "quote"}-v${q.quoteVersion ?? 1}.${format}`, { quote_id: q.id }).catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)));

  const columns: TableProps<QuoteItem>["columns"] = [
    { key: "offering", title: t("salesDeals.offering"), render: (_, r) => <Link to={`/sales/catalog/${r.productOffering.id}`}>{r.productOffering.name ?? names[r.productOffering.id ?? ""] ?? r.productOffering.id}</Link> },
    { key: "quantity", title: t("salesDeals.quantity"), align: "right", dataIndex: "quantity" },
    { key: "unitPrice", title: t("salesDeals.unitPrice"), align: "right", render: (_, r) => formatMoney(r.unitPrice) },
    { key: "discount", title: t("salesDeals.discountPercent"), align: "right", render: (_, r) => `${r.discountPercent}%` },
    { key: "amount", title: t("salesDeals.amount"), align: "right", render: (_, r) => <span data-testid="item-amount">{formatMoney(r.amount)}</span> },
    { key: "note", title: t("salesDeals.note"), render: (_, r) => r.note ?? "" },
  ];
  const approval = q.approval;
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="quote-detail">
      <Card
        title={
          <Space>
            {`${q.number ?? ""} v${q.quoteVersion ?? 1} · ${q.name ?? ""}`} <QuoteStateTag state={q.state} />
          </Space>
        }
        extra={
          <Space>
            <Button onClick={() => void save("pdf")} data-testid="download-pdf">
              {t("salesDeals.downloadPdf")}
            </Button>
            <Button onClick={() => void save("xlsx")} data-testid="download-xlsx">
              {t("salesDeals.downloadXlsx")}
            </Button>
            <Button onClick={() => navigate("/sales/quotes")}>{t("common.back")}</Button>
          </Space>
        }
      >
        {q.ownerNode !== nodeInfo()?.code && <Alert type="info" showIcon message={t("salesDeals.replica", { owner: q.ownerNode })} style={{ marginBottom: 12 }} />}
        <Descriptions column={3} size="small" bordered>
          <Descriptions.Item label={t("salesDeals.customer")}>{q.customer?.name ?? customers[q.customer?.id ?? ""] ?? q.customer?.id}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.accountManager")}>{q.accountManager}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.ownerNode")}>{q.ownerNode}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.subtotal")}>{formatMoney(q.subtotal)}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.total")}>
            <span data-testid="quote-total">{formatMoney(q.total)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.maxDiscount")}>{q.maxDiscountPercent ?? "0"}%</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.validUntil")}>{q.validUntil ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.linkedOpportunity")}>{q.opportunity ? (
              <Link to={`/sales/opportunities/${q.opportunity.id}`} data-testid="quote-opportunity">
                {opportunityName ?? q.opportunity.id}
              </Link>
            ) : (
              "—"
            )}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.updatedAt")}>{q.updatedAt ? formatTime(q.updatedAt) : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.previousQuote")}>{q.previousQuote ? <Link to={`/sales/quotes/${q.previousQuote.id}`}>v{(q.quoteVersion ?? 2) - 1}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.supersededBy")}>{q.supersededBy ? <Link to={`/sales/quotes/${q.supersededBy.id}`}>v{(q.quoteVersion ?? 1) + 1}</Link> : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesDeals.description")}>{q.description ?? "—"}</Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t("salesDeals.approval")} size="small" data-testid="quote-approval">
        <Space orientation="vertical">
          {approval?.required ? <Tag color="orange">{t("salesDeals.approvalRequired")}</Tag> : <Tag>{t("salesDeals.approvalNotRequired")}</Tag>}
          <span>
            {t("salesDeals.approvalRule")}: {approval?.rule ?? "—"} · {t("salesDeals.approvedBy")}: {approval?.approvedBy ?? "—"} · {t("salesDeals.decidedAt")}: {approval?.decidedAt ? formatTime(approval.decidedAt) : "—"}
          </span>
          {approval?.note && (
            <span>
              {t("salesDeals.decisionNote")}: {approval.note}
            </span>
          )}
        </Space>
      </Card>
      {actions.length > 0 && (
        <Card size="small">
          <Space wrap data-testid="quote-actions">
            {actions.map((a) => (
              <Button
                key={a}
                type={a === "submit" || a === "approve" ? "primary" : "default"}
                danger={a === "cancel" || a === "reject"}
                loading={busy === a}
                onClick={() => (a === "approve" || a === "reject" ? setDeciding(a) : void run(a))}
                data-testid={`quote-${a}`}
              >
                {t(`salesDeals.quoteActions.${a}`)}
              </Button>
            ))}
          </Space>
        </Card>
      )}
      <Card title={t("salesDeals.lines")} size="small">
        <Table<QuoteItem> rowKey="id" size="small" pagination={false} dataSource={q.quoteItem ?? []} columns={columns} data-testid="quote-items" />
      </Card>
      <Modal open={deciding !== null} title={deciding ? t(`salesDeals.quoteActions.${deciding}`) : ""} onCancel={() => setDeciding(null)} onOk={() => deciding && void run(deciding, note.trim() ? { note: note.trim() } : undefined)} confirmLoading={busy !== null}>
        <Input.TextArea rows={3} maxLength={2000} value={note} onChange={(e) => setNote(e.target.value)} placeholder={t("salesDeals.decisionNote")} data-testid="decision-note" />
      </Modal>
    </Space>
  );
}
