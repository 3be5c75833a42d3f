import { PlusOutlined } from "@ant-design/icons";
import { Button, Card, Checkbox, Form, Input, Select, Space, Table, Tag, type TableProps } from "antd";
import { useCallback, useEffect, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useTmfList, formatTotal } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import {
  customerOf,
  isBreached,
  PRIORITIES,
  slaState,
  STATUSES,
  TICKET_TYPES,
  ticketQuery,
  ticketStateFromSearch,
  ticketStateToSearch,
  type Ticket,
  type TicketListState,
} from "./logic";
import { DeadlineCell, PriorityTag, StatusTag } from "./Sla";
import { useNow } from "./useNow";

export const TICKETS = "/tmf-api/troubleTicket/v4/troubleTicket";

export default function TicketList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => ticketStateFromSearch(params), [params]);
  const { rows, total, totalIsLowerBound, loading } = useTmfList<Ticket>(TICKETS, ticketQuery(state));
  const [form] = Form.useForm();
  const update = useCallback((next: Partial<TicketListState>) => setParams(ticketStateToSearch({ ...state, ...next })), [state, setParams]);


  useEffect(() => {
    form.setFieldsValue({ q: state.q, status: state.status, ticketType: state.ticketType, priority: state.priority, breached: state.breached });
  }, [state, form]);

  const options = (group: string, values: readonly string[]) => values.map((v) => ({ value: v, label: t(`service.${group}.${v}`) }));
  const columns: TableProps<Ticket>["columns"] = [
    { key: "name", title: t("service.name"), render: (_, r) => <Link to={`/service/tickets/${r.id}`}>{r.name}</Link> },
    { key: "customer", title: t("service.customer"), render: (_, r) => customerOf(r)?.name ?? "—" },
    { key: "grade", title: t("service.customerGrade"), dataIndex: "customerGrade", width: 70 },
    { key: "type", title: t("service.ticketType"), render: (_, r) => t(`service.types.${r.ticketType ?? ""}`, { defaultValue: r.ticketType ?? "—" }) },
    { key: "priority", title: t("service.priority"), render: (_, r) => <PriorityTag priority={r.priority} /> },
    { key: "status", title: t("service.status"), render: (_, r) => <StatusTag status={r.status} /> },
    { key: "response", title: t("service.responseDue"), render: (_, r) => <DeadlineCell d={slaState(r, now).response} testId="sla-response" /> },
    { key: "resolve", title: t("service.resolveDue"), render: (_, r) => <DeadlineCell d={slaState(r, now).resolve} testId="sla-resolve" /> },
    { key: "handler", title: t("service.handler"), render: (_, r) => r.handler ?? "—" },
    { key: "ownerNode", title: t("service.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
    { key: "creationDate", title: t("service.creationDate"), render: (_, r) => formatTime(r.creationDate) },
  ];

  const onSearch = (v: { q?: string; status?: string[]; ticketType?: string[]; priority?: string[]; breached?: boolean }) =>
    update({ q: v.q ?? "", status: v.status ?? [], ticketType: v.ticketType ?? [], priority: v.priority ?? [], breached: Boolean(v.breached), page: 1 });

  return (
    <Card
      title={t("service.tickets")}
      data-testid="ticket-list"
      extra={
        hasPermission(session?.claims, "service.ticket:write") && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate("/service/tickets/new")} data-testid="ticket-create">
            {t("service.newTicket")}
          </Button>
        )
      }
    >
      <Form form={form} layout="inline" onFinish={onSearch} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="q">
          <Input.Search placeholder={t("service.searchPlaceholder")} allowClear style={{ width: 280 }} onSearch={() => form.submit()} data-testid="ticket-search" />
        </Form.Item>
        <Form.Item name="status">
          <Select mode="multiple" allowClear placeholder={t("service.status")} options={options("statuses", STATUSES)} style={{ minWidth: 140 }} data-testid="filter-status" />
        </Form.Item>
        <Form.Item name="ticketType">
          <Select mode="multiple" allowClear placeholder={t("service.ticketType")} options={options("types", TICKET_TYPES)} style={{ minWidth: 130 }} />
        </Form.Item>
        <Form.Item name="priority">
          <Select mode="multiple" allowClear placeholder={t("service.priority")} options={options("priorities", PRIORITIES)} style={{ minWidth: 120 }} />
        </Form.Item>
        <Form.Item name="breached" valuePropName="checked">
          <Checkbox>{t("service.breachedOnly")}</Checkbox>
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("common.search")}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              setParams(new URLSearchParams());
            }}
          >
            {t("common.reset")}
          </Button>
        </Space>
      </Form>
      {(state.ownerNode || state.customerGrade || state.createdFrom || state.createdTo) && (
        <Space wrap style={{ marginBottom: 12 }} data-testid="ticket-drill">
          {state.ownerNode && (
            <Tag closable onClose={() => update({ ownerNode: "", page: 1 })}>
              {t("service.ownerNode")}: {state.ownerNode}
            </Tag>
          )}
          {state.customerGrade && (
            <Tag closable onClose={() => update({ customerGrade: "", page: 1 })}>
              {t("service.customerGrade")}: {state.customerGrade}
            </Tag>
          )}
          {(state.createdFrom || state.createdTo) && (
            <Tag closable onClose={() => update({ createdFrom: "", createdTo: "", page: 1 })}>
              {t("service.creationDate")}: {formatTime(state.createdFrom)} – {formatTime(state.createdTo)}
            </Tag>
          )}
        </Space>
      )}
      <Table<Ticket>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={rows}
        columns={columns}
        data-testid="ticket-table"
        onRow={(r) => (isBreached(r, now) ? { style: { background: "#fff1f0" }, "data-breached": "true" } : {}) as React.HTMLAttributes<HTMLElement>}
        pagination={{
          current: state.page,
          pageSize: state.pageSize,
          total,
          showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100],
          showTotal: (n) => t("common.total", { count: formatTotal(n, totalIsLowerBound) }),
        }}
        onChange={(p) => update({ page: p.current ?? 1, pageSize: p.pageSize ?? state.pageSize })}
      />
    </Card>
  );
}
