// Quotes (报价, TMF648): the list paged by the server with filters (customer, state); `state=pending` is a
// manager's approval work list.
import { Button, Card, Form, Input, Select, Space, Table, Tag, type TableProps } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { QUOTE_STATES, type Quote } from "./deals";
import { formatMoney } from "./logic";
import { useCustomerNames } from "./OpportunityList";

export const QUOTES = "/tmf-api/quoteManagement/v4/quote" as const;
export const QUOTE = "/tmf-api/quoteManagement/v4/quote/{quote_id}" as const;

const COLORS: Record<string, string> = { inProgress: "blue", pending: "orange", approved: "green", rejected: "red", accepted: "cyan" };

export function QuoteStateTag({ state }: { state?: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={COLORS[state ?? ""] ?? "default"} data-testid="quote-state">
      {t(`salesDeals.quoteStates.${state ?? ""}`, { defaultValue: state ?? "—" })}
    </Tag>
  );
}

interface Filters {
  state?: string;
  customer?: string;
}

export default function QuoteList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const [form] = Form.useForm<Filters>();
  const [filters, setFilters] = useState<{ state?: string; "customer.id"?: string }>({});
  const list = usePagedList<Quote>(QUOTES, { ...filters, sort: "-updatedAt" });
  const names = useCustomerNames(list.rows);
  const columns: TableProps<Quote>["columns"] = [
    { key: "number", title: t("salesDeals.number"), render: (_, r) => <Link to={`/sales/quotes/${r.id}`}>{r.number}</Link> },
    { key: "version", title: t("salesDeals.quoteVersion"), render: (_, r) => `v${r.quoteVersion ?? 1}` },
    { key: "name", title: t("salesDeals.name"), dataIndex: "name" },
    { key: "customer", title: t("salesDeals.customer"), render: (_, r) => r.customer?.name ?? names[r.customer?.id ?? ""] ?? r.customer?.id },
    { key: "state", title: t("salesDeals.state"), render: (_, r) => <QuoteStateTag state={r.state} /> },
    { key: "total", title: t("salesDeals.total"), align: "right", render: (_, r) => formatMoney(r.total) },
    { key: "maxDiscount", title: t("salesDeals.maxDiscount"), align: "right", render: (_, r) => `${r.maxDiscountPercent ?? "0"}%` },
    { key: "validUntil", title: t("salesDeals.validUntil"), render: (_, r) => r.validUntil ?? "—" },
    { key: "ownerNode", title: t("salesDeals.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
    { key: "updatedAt", title: t("salesDeals.updatedAt"), render: (_, r) => (r.updatedAt ? formatTime(r.updatedAt) : "—") },
  ];
  const search = (v: Filters) => setFilters({ state: v.state || undefined, "customer.id": v.customer?.trim() || undefined });
  return (
    <Card
      title={t("salesDeals.quotes")}
      data-testid="quote-page"
      extra={
        hasPermission(session?.claims, "sales.quote:write") && (
          <Button type="primary" onClick={() => navigate("/sales/quotes/new")} data-testid="new-quote">
            {t("salesDeals.newQuote")}
          </Button>
        )
      }
    >
      <Form form={form} layout="inline" onFinish={search} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="state">
          <Select allowClear placeholder={t("salesDeals.state")} options={QUOTE_STATES.map((s) => ({ value: s, label: t(`salesDeals.quoteStates.${s}`) }))} style={{ minWidth: 150 }} data-testid="filter-state" />
        </Form.Item>
        <Form.Item name="customer">
          <Input allowClear placeholder={t("salesDeals.customerId")} style={{ width: 300 }} data-testid="filter-customer" />
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
      <Table<Quote> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="quote-table" />
    </Card>
  );
}
