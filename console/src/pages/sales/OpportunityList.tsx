// Opportunities (销售机会): a table paged by the server, or a kanban with a column per stage whose count
// and amount are the funnel's and whose cards are that stage's opportunities.
import { App, Button, Card, DatePicker, Empty, Form, Input, Segmented, Select, Space, Table, Tag, Typography, type TableProps } from "antd";
import type { Dayjs } from "dayjs";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { tablePagination, usePagedList, useTmfList, formatTotal } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatAmounts, formatMoney, orderStages, STAGES, type Funnel, type FunnelStage, type Opportunity } from "./logic";
import { closeRange } from "./marketing";
import { StageForm } from "./StageForm";

export const OPPORTUNITIES = "/api/v1/sales/opportunities";
const FUNNEL = "/api/v1/sales/funnel";
const CUSTOMERS = "/tmf-api/customerManagement/v4/customer";
const CARDS = 20;

export function StageTag({ stage }: { stage: string }) {
  const { t } = useTranslation();
  const color = stage === "WON" ? "green" : stage === "LOST" ? "default" : "blue";
  return <Tag color={color}>{t(`salesPipeline.stages.${stage}`, { defaultValue: stage })}</Tag>;
}

export default function OpportunityList() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const view = params.get("view") === "kanban" ? "kanban" : "table";
  const setView = (v: string) => setParams(v === "kanban" ? { view: v } : {});
  return (
    <Card
      title={t("salesPipeline.opportunities")}
      data-testid="opportunity-page"
      extra={
        <Segmented
          value={view}
          onChange={(v) => setView(String(v))}
          options={[
            { value: "table", label: t("salesPipeline.table") },
            { value: "kanban", label: t("salesPipeline.kanban") },
          ]}
          data-testid="view-toggle"
        />
      }
    >
      {view === "table" ? <OpportunityTable /> : <Kanban />}
    </Card>
  );
}

function OpportunityTable() {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ stage?: string; customer?: string }>();
  const [filters, setFilters] = useState<{ stage?: string; "customer.id"?: string }>({});
  const list = usePagedList<Opportunity>(OPPORTUNITIES, filters);
  const names = useCustomerNames(list.rows);
  const columns: TableProps<Opportunity>["columns"] = [
    { key: "name", title: t("salesPipeline.name"), render: (_, r) => <Link to={`/sales/opportunities/${r.id}`}>{r.name}</Link> },
    { key: "customer", title: t("salesPipeline.customer"), render: (_, r) => <Typography.Text copyable={{ text: r.customer.id }}>{r.customer.name ?? names[r.customer.id] ?? r.customer.id}</Typography.Text> },
    { key: "stage", title: t("salesPipeline.stage"), render: (_, r) => <StageTag stage={r.stage} /> },
    { key: "probability", title: t("salesPipeline.probability"), align: "right", render: (_, r) => `${r.probability}%` },
    { key: "expectedAmount", title: t("salesPipeline.expectedAmount"), align: "right", render: (_, r) => formatMoney(r.expectedAmount) },
    { key: "closeDate", title: t("salesPipeline.closeDate"), render: (_, r) => r.closeDate ?? "—" },
    { key: "accountManager", title: t("salesPipeline.accountManager"), dataIndex: "accountManager" },
    { key: "ownerNode", title: t("salesPipeline.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
  ];
  const search = (v: { stage?: string; customer?: string }) => setFilters({ stage: v.stage || undefined, "customer.id": v.customer?.trim() || undefined });
  return (
    <>
      <Form form={form} layout="inline" onFinish={search} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="stage">
          <Select allowClear placeholder={t("salesPipeline.stage")} options={STAGES.map((s) => ({ value: s, label: t(`salesPipeline.stages.${s}`) }))} style={{ minWidth: 140 }} data-testid="filter-stage" />
        </Form.Item>
        <Form.Item name="customer">
          <Input allowClear placeholder={t("salesPipeline.customerId")} style={{ width: 300 }} data-testid="filter-customer" />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("common.search")}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              setFilters({});
            }}
          >
            {t("common.reset")}
          </Button>
        </Space>
      </Form>
      <Table<Opportunity> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="opportunity-table" />
    </>
  );
}

/** The names of the page's customers (sales keeps only their ids), in one list read; ids until then. */
export function useCustomerNames(rows: { customer?: { id?: string } | null }[]): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const ids = [...new Set(rows.flatMap((r) => (r.customer?.id ? [r.customer.id] : [])))].sort().join(",");
  useEffect(() => {
    if (!ids) return;
    const ctrl = new AbortController();
    api
      .get<{ id: string; name: string }[]>(CUSTOMERS, { query: { id: ids, fields: "id,name", limit: ids.split(",").length }, signal: ctrl.signal })
      .then((r) => setNames(Object.fromEntries(r.data.map((c) => [c.id, c.name]))))
      .catch(() => undefined); // the ids stay shown
    return () => ctrl.abort();
  }, [ids]);
  return names;
}

/** A close-date range [start, end) of the kanban (the funnel's start/end, the cards' closeDate filter). */
interface CloseRange {
  start?: string;
  end?: string;
}

/** The funnel (every stage's count and amount, one query); reloaded after a card moves. */
function useFunnel(reloads: number, range: CloseRange): FunnelStage[] | null {
  const { message } = App.useApp();
  const [stages, setStages] = useState<FunnelStage[] | null>(null);
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Funnel>(FUNNEL, { query: { start: range.start, end: range.end }, signal: ctrl.signal })
      .then((r) => setStages(orderStages(r.data.stages)))
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setStages([]);
        message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [reloads, message, range.start, range.end]);
  return stages;
}

function Kanban() {
  const { t } = useTranslation();
  const [reloads, setReloads] = useState(0);
  const [dates, setDates] = useState<[Dayjs, Dayjs] | null>(null);
  const range: CloseRange = closeRange(dates);
  const funnel = useFunnel(reloads, range);
  const refresh = useCallback(() => setReloads((n) => n + 1), []);
  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">{t("salesMarketing.closeDatePeriod")}</Typography.Text>
        <DatePicker.RangePicker value={dates} onChange={(v) => setDates(v && v[0] && v[1] ? [v[0], v[1]] : null)} data-testid="kanban-period" />
      </Space>
      <div style={{ display: "flex", gap: 12, overflowX: "auto", alignItems: "flex-start" }} data-testid="kanban">
        {(funnel ?? orderStages([])).map((s) => (
          <KanbanColumn key={`${s.stage}-${reloads}-${range.start ?? ""}-${range.end ?? ""}`} stage={s} range={range} loaded={funnel !== null} onMoved={refresh} />
        ))}
      </div>
    </>
  );
}

function KanbanColumn({ stage, range, loaded, onMoved }: { stage: FunnelStage; range: CloseRange; loaded: boolean; onMoved: () => void }) {
  const { t } = useTranslation();
  const session = useSession();
  const canWrite = hasPermission(session?.claims, "sales.opportunity:write");
  const cards = useTmfList<Opportunity>(OPPORTUNITIES, { stage: stage.stage, "closeDate.gte": range.start, "closeDate.lt": range.end, sort: "closeDate", limit: CARDS });
  return (
    <Card
      size="small"
      style={{ minWidth: 240, width: 240, background: "#fafafa" }}
      data-testid={`kanban-column-${stage.stage}`}
      title={
        <Space direction="vertical" size={0}>
          <StageTag stage={stage.stage} />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            <span data-testid="kanban-count">{loaded ? stage.count : "…"}</span> · <span data-testid="kanban-amount">{formatAmounts(stage.amounts)}</span>
          </Typography.Text>
        </Space>
      }
      loading={cards.loading && cards.rows.length === 0}
    >
      {cards.rows.length === 0 && !cards.loading && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("salesPipeline.empty")} />}
      <Space direction="vertical" style={{ width: "100%" }}>
        {cards.rows.map((o) => (
          <Card key={o.id} size="small" data-testid="kanban-card">
            <Link to={`/sales/opportunities/${o.id}`}>{o.name}</Link>
            <div>
              <Typography.Text type="secondary">
                {formatMoney(o.expectedAmount)} · {o.probability}% · {o.closeDate ?? "—"}
              </Typography.Text>
            </div>
            <div style={{ marginBottom: canWrite ? 8 : 0 }}>
              <Typography.Text type="secondary">{o.accountManager}</Typography.Text>
            </div>
            {canWrite && stage.stage !== "WON" && stage.stage !== "LOST" && <StageForm opportunity={o} onMoved={onMoved} compact />}
          </Card>
        ))}
        {cards.total > cards.rows.length && <Typography.Text type="secondary">{t("salesPipeline.more", { count: formatTotal(cards.total - cards.rows.length, cards.totalIsLowerBound) })}</Typography.Text>}
      </Space>
    </Card>
  );
}
