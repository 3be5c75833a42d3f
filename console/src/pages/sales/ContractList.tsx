// Contracts (合同, TMF651): every contract in scope (paged, filtered), the expiry list (signed contracts
// ending in the next 90 days, soonest first, with the days left) and the reminder work list.
import { Button, Card, Form, Input, Select, Space, Table, Tabs, Tag, Typography, type TableProps } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { formatTime } from "../../components/labels";
import { AGREEMENT_STATUSES, daysLeft, expiringQuery, todayUtc, type Agreement, type Reminder } from "./deals";
import { formatMoney } from "./logic";
import { useCustomerNames } from "./OpportunityList";

export const AGREEMENTS = "/tmf-api/agreementManagement/v4/agreement" as const;
export const AGREEMENT = "/tmf-api/agreementManagement/v4/agreement/{agreement_id}" as const;
const REMINDERS = "/api/v1/sales/agreementReminder" as const;

const COLORS: Record<string, string> = { inProgress: "blue", signed: "green", terminated: "default", cancelled: "default" };

export function AgreementStatusTag({ status }: { status?: string }) {
  const { t } = useTranslation();
  return <Tag color={COLORS[status ?? ""] ?? "default"}>{t(`salesDeals.statuses.${status ?? ""}`, { defaultValue: status ?? "—" })}</Tag>;
}

export function RenewalTag({ status }: { status?: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={status === "renewed" ? "green" : status === "notRenewed" ? "red" : "default"} data-testid="renewal-status">
      {t(`salesDeals.renewalStatuses.${status ?? ""}`, { defaultValue: status ?? "—" })}
    </Tag>
  );
}

/** "12 天" in orange within 30 days, red when expired. */
export function DaysLeft({ end }: { end?: string | null }) {
  const { t } = useTranslation();
  const n = daysLeft(end, todayUtc());
  if (n === null) return <>—</>;
  if (n <= 0) return <Typography.Text type="danger">{t("salesDeals.expired")}</Typography.Text>;
  return (
    <Typography.Text type={n <= 30 ? "warning" : undefined} data-testid="days-left">
      {t("salesDeals.days", { count: n })}
    </Typography.Text>
  );
}

export default function ContractList() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab = params.get("view") ?? "all";
  return (
    <Card title={t("salesDeals.contracts")} data-testid="contract-page">
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === "all" ? {} : { view: k })}
        destroyOnHidden
        items={[
          { key: "all", label: t("salesDeals.allContracts"), children: <AllContracts /> },
          { key: "expiring", label: t("salesDeals.expiring"), children: <Expiring /> },
          { key: "reminders", label: t("salesDeals.reminders"), children: <Reminders /> },
        ]}
        data-testid="contract-tabs"
      />
    </Card>
  );
}

function useColumns(rows: Agreement[]): TableProps<Agreement>["columns"] {
  const { t } = useTranslation();
  const names = useCustomerNames(rows);
  return [
    { key: "number", title: t("salesDeals.contractNumber"), render: (_, r) => <Link to={`/sales/contracts/${r.id}`}>{r.number}</Link> },
    { key: "version", title: t("salesDeals.agreementVersion"), render: (_, r) => `v${r.agreementVersion ?? 1}` },
    { key: "name", title: t("salesDeals.name"), dataIndex: "name" },
    { key: "customer", title: t("salesDeals.customer"), render: (_, r) => names[r.customer?.id ?? ""] ?? r.customer?.id },
    { key: "status", title: t("salesDeals.status"), render: (_, r) => <AgreementStatusTag status={r.status} /> },
    { key: "amount", title: t("salesDeals.amountLabel"), align: "right", render: (_, r) => formatMoney(r.amount) },
    { key: "end", title: t("salesDeals.endDate"), render: (_, r) => r.agreementPeriod?.endDateTime ?? "—" },
    { key: "renewal", title: t("salesDeals.renewalStatus"), render: (_, r) => <RenewalTag status={r.renewalStatus} /> },
    { key: "ownerNode", title: t("salesDeals.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
  ];
}

interface Filters {
  status?: string;
  number?: string;
  customer?: string;
}

function AllContracts() {
  const { t } = useTranslation();
  const [form] = Form.useForm<Filters>();
  const [filters, setFilters] = useState<Record<string, string | undefined>>({});
  const list = usePagedList<Agreement>(AGREEMENTS, { ...filters, sort: "-updatedAt" });
  const columns = useColumns(list.rows);
  const search = (v: Filters) => setFilters({ status: v.status || undefined, number: v.number?.trim() || undefined, "customer.id": v.customer?.trim() || undefined });
  return (
    <>
      <Form form={form} layout="inline" onFinish={search} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="status">
          <Select allowClear placeholder={t("salesDeals.status")} options={AGREEMENT_STATUSES.map((s) => ({ value: s, label: t(`salesDeals.statuses.${s}`) }))} style={{ minWidth: 140 }} data-testid="filter-status" />
        </Form.Item>
        <Form.Item name="number">
          <Input allowClear placeholder={t("salesDeals.contractNumber")} style={{ width: 200 }} data-testid="filter-number" />
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
      <Table<Agreement> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="contract-table" />
    </>
  );
}

function Expiring() {
  const { t } = useTranslation();
  const [today] = useState(todayUtc);
  const list = usePagedList<Agreement>(AGREEMENTS, expiringQuery(today));
  const common = useColumns(list.rows);
  const columns = [...(common ?? []), { key: "daysLeft", title: t("salesDeals.daysLeft"), align: "right" as const, render: (_: unknown, r: Agreement) => <DaysLeft end={r.agreementPeriod?.endDateTime} /> }];
  return <Table<Agreement> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="expiring-table" />;
}

function Reminders() {
  const { t } = useTranslation();
  const list = usePagedList<Reminder>(REMINDERS, { sort: "-remindedAt" });
  const columns: TableProps<Reminder>["columns"] = [
    { key: "agreement", title: t("salesDeals.contract"), render: (_, r) => (r.agreement?.id ? <Link to={`/sales/contracts/${r.agreement.id}`}>{r.agreement.name ?? r.agreement.id}</Link> : "—") },
    { key: "endDate", title: t("salesDeals.endDate"), dataIndex: "endDate" },
    { key: "daysLeft", title: t("salesDeals.daysLeft"), align: "right", render: (_, r) => <DaysLeft end={r.endDate} /> },
    { key: "offsetDays", title: t("salesDeals.offsetDays"), align: "right", dataIndex: "offsetDays" },
    { key: "dueOn", title: t("salesDeals.dueOn"), dataIndex: "dueOn" },
    { key: "accountManager", title: t("salesDeals.accountManager"), dataIndex: "accountManager" },
    { key: "rule", title: t("salesDeals.rule"), dataIndex: "rule" },
    { key: "remindedAt", title: t("salesDeals.remindedAt"), render: (_, r) => (r.remindedAt ? formatTime(r.remindedAt) : "—") },
  ];
  return <Table<Reminder> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="reminder-table" />;
}
