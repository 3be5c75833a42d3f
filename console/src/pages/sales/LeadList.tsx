// Leads (线索, TMF699 SalesLead): the list (status filter), a new lead (a customer or a prospect), and at
// the owner node the moves the API allows — qualify / back to new / reject (with a reason) by PATCH,
// and convert (its own operation) into an opportunity.
import { Alert, App, Button, Card, DatePicker, Form, Input, Modal, Radio, Select, Space, Table, Tag, type TableProps } from "antd";
import type { Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { CustomerSelect } from "./CustomerSelect";
import { formatMoney, type Opportunity } from "./logic";
import { canConvert, LEAD_SOURCES, LEAD_STATUSES, leadMoves, RATINGS, type Lead } from "./marketing";

export const LEADS = "/tmf-api/sales/v4/salesLead";
const LEAD = "/tmf-api/sales/v4/salesLead/{lead_id}";
const CONVERT = "/tmf-api/sales/v4/salesLead/{lead_id}/convert";

function LeadStatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  const color = { new: "blue", qualified: "gold", converted: "green", rejected: "default" }[status];
  return <Tag color={color}>{t(`salesMarketing.leadStatus.${status}`, { defaultValue: status })}</Tag>;
}

export default function LeadList() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const [status, setStatus] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [rejecting, setRejecting] = useState<Lead | null>(null);
  const [converting, setConverting] = useState<Lead | null>(null);
  const list = usePagedList<Lead>(LEADS, { status, sort: "-creationDate" });
  const canWrite = hasPermission(session?.claims, "sales.opportunity:write");
  const here = (l: Lead) => canWrite && session?.claims.node === l.ownerNode;

  const move = async (l: Lead, to: string) => {
    try {
      await api.patch(LEAD, { path: { lead_id: l.id }, body: { status: to } });
      message.success(t("salesMarketing.saved"));
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const columns: TableProps<Lead>["columns"] = [
    { key: "name", title: t("salesMarketing.leadName"), dataIndex: "name" },
    { key: "status", title: t("salesMarketing.status"), render: (_, r) => <LeadStatusTag status={r.status} /> },
    { key: "rating", title: t("salesMarketing.rating"), render: (_, r) => t(`salesMarketing.ratings.${r.rating}`, { defaultValue: r.rating }) },
    { key: "source", title: t("salesMarketing.source"), render: (_, r) => t(`salesMarketing.sources.${r.source}`, { defaultValue: r.source }) },
    { key: "who", title: t("salesMarketing.customer"), render: (_, r) => r.customer?.name ?? r.customer?.id ?? <Tag>{`${t("salesMarketing.prospect")} · ${r.prospectName ?? ""}`}</Tag> },
    { key: "revenue", title: t("salesMarketing.estimatedRevenue"), align: "right", render: (_, r) => formatMoney(r.estimatedRevenue) },
    { key: "accountManager", title: t("salesMarketing.accountManager"), dataIndex: "accountManager" },
    { key: "ownerNode", title: t("salesMarketing.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
    { key: "changed", title: t("salesMarketing.statusChangeDate"), render: (_, r) => formatTime(r.statusChangeDate) },
    {
      key: "actions",
      title: "",
      render: (_, r) => (
        <Space size="small">
          {r.salesOpportunity && <Link to={`/sales/opportunities/${r.salesOpportunity.id}`}>{t("salesMarketing.opportunity")}</Link>}
          {here(r) &&
            leadMoves(r.status).map((to) =>
              to === "rejected" ? (
                <Button key={to} size="small" danger onClick={() => setRejecting(r)} data-testid="lead-reject">
                  {t("salesMarketing.leadActions.reject")}
                </Button>
              ) : (
                <Button key={to} size="small" onClick={() => void move(r, to)} data-testid={`lead-${to}`}>
                  {t(`salesMarketing.leadActions.${to}`)}
                </Button>
              ),
            )}
          {here(r) && canConvert(r.status) && (
            <Button size="small" type="primary" onClick={() => setConverting(r)} data-testid="lead-convert">
              {t("salesMarketing.leadActions.convert")}
            </Button>
          )}
        </Space>
      ),
    },
  ];
  return (
    <Card
      title={t("salesMarketing.leads")}
      data-testid="lead-page"
      extra={
        canWrite && (
          <Button type="primary" onClick={() => setCreating(true)} data-testid="lead-new">
            {t("salesMarketing.newLead")}
          </Button>
        )
      }
    >
      <Space style={{ marginBottom: 16 }}>
        <Select allowClear placeholder={t("salesMarketing.status")} value={status} onChange={setStatus} options={LEAD_STATUSES.map((s) => ({ value: s, label: t(`salesMarketing.leadStatus.${s}`) }))} style={{ minWidth: 160 }} data-testid="filter-status" />
      </Space>
      <Table<Lead> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="lead-table" />
      {creating && (
        <LeadForm
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      )}
      {rejecting && (
        <RejectForm
          lead={rejecting}
          onClose={() => setRejecting(null)}
          onDone={() => {
            setRejecting(null);
            list.reload();
          }}
        />
      )}
      {converting && <ConvertForm lead={converting} onClose={() => setConverting(null)} />}
    </Card>
  );
}

interface LeadValues {
  name: string;
  kind: "customer" | "prospect";
  customer?: string;
  prospectName?: string;
  rating: string;
  source: string;
  estimatedRevenue?: string;
  description?: string;
}

function LeadForm({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<LeadValues>();
  const kind = Form.useWatch("kind", form);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: LeadValues) => {
    setBusy(true);
    setFormError(null);
    try {
      await api.post(LEADS, {
        body: {
          name: v.name,
          rating: v.rating,
          source: v.source,
          customer: v.kind === "customer" && v.customer ? { id: v.customer } : undefined,
          prospectName: v.kind === "prospect" ? v.prospectName?.trim() : undefined,
          estimatedRevenue: v.estimatedRevenue?.trim() ? { unit: "CNY", value: v.estimatedRevenue.trim() } : undefined,
          description: v.description?.trim() || undefined,
        },
      });
      message.success(t("common.created"));
      onCreated();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["name", "customer", "prospectName", "rating", "source", "estimatedRevenue", "description"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={t("salesMarketing.newLead")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ kind: "customer", rating: "warm", source: "OTHER" }} data-testid="lead-form">
        <Form.Item name="name" label={t("salesMarketing.leadName")}>
          <Input maxLength={200} data-testid="lead-name" />
        </Form.Item>
        <Form.Item name="kind">
          <Radio.Group options={[{ value: "customer", label: t("salesMarketing.customer") }, { value: "prospect", label: t("salesMarketing.prospect") }]} />
        </Form.Item>
        {kind === "prospect" ? (
          <Form.Item name="prospectName" label={t("salesMarketing.prospectName")}>
            <Input maxLength={200} />
          </Form.Item>
        ) : (
          <Form.Item name="customer" label={t("salesMarketing.customer")}>
            <CustomerSelect testId="lead-customer" />
          </Form.Item>
        )}
        <Space>
          <Form.Item name="rating" label={t("salesMarketing.rating")}>
            <Select style={{ width: 120 }} options={RATINGS.map((r) => ({ value: r, label: t(`salesMarketing.ratings.${r}`) }))} />
          </Form.Item>
          <Form.Item name="source" label={t("salesMarketing.source")}>
            <Select style={{ width: 140 }} options={LEAD_SOURCES.map((s) => ({ value: s, label: t(`salesMarketing.sources.${s}`) }))} />
          </Form.Item>
          <Form.Item name="estimatedRevenue" label={`${t("salesMarketing.estimatedRevenue")} (CNY)`}>
            <Input placeholder="100000.00" />
          </Form.Item>
        </Space>
        <Form.Item name="description" label={t("salesMarketing.description")}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function RejectForm({ lead, onClose, onDone }: { lead: Lead; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ statusReason?: string }>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: { statusReason?: string }) => {
    setBusy(true);
    try {
      await api.patch(LEAD, { path: { lead_id: lead.id }, body: { status: "rejected", statusReason: v.statusReason?.trim() || undefined } });
      onDone();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["statusReason"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={`${t("salesMarketing.leadActions.reject")} · ${lead.name}`} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)}>
        <Form.Item name="statusReason" label={t("salesMarketing.statusReason")}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

interface ConvertValues {
  name?: string;
  customer?: string;
  expectedAmount?: string;
  closeDate?: Dayjs;
}

function ConvertForm({ lead, onClose }: { lead: Lead; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<ConvertValues>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: ConvertValues) => {
    setBusy(true);
    setFormError(null);
    try {
      const { data } = await api.post<Opportunity>(CONVERT, {
        path: { lead_id: lead.id },
        body: {
          name: v.name?.trim() || undefined,
          customer: v.customer ? { id: v.customer } : undefined,
          expectedAmount: v.expectedAmount?.trim() ? { unit: lead.estimatedRevenue?.unit ?? "CNY", value: v.expectedAmount.trim() } : undefined,
          closeDate: v.closeDate?.format("YYYY-MM-DD"),
        },
      });
      message.success(t("salesMarketing.converted"));
      navigate(`/sales/opportunities/${data.id}`);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["name", "customer", "expectedAmount", "closeDate"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={`${t("salesMarketing.leadActions.convert")} · ${lead.name}`} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ name: lead.name, expectedAmount: lead.estimatedRevenue ? String(lead.estimatedRevenue.value) : undefined }}>
        <Form.Item name="name" label={t("salesMarketing.opportunityName")}>
          <Input maxLength={200} />
        </Form.Item>
        {!lead.customer && (
          <Form.Item name="customer" label={t("salesMarketing.customer")} extra={t("salesMarketing.prospectNeedsCustomer")}>
            <CustomerSelect />
          </Form.Item>
        )}
        <Form.Item name="expectedAmount" label={t("salesMarketing.expectedAmount")}>
          <Input placeholder="100000.00" />
        </Form.Item>
        <Form.Item name="closeDate" label={t("salesMarketing.closeDate")}>
          <DatePicker />
        </Form.Item>
      </Form>
    </Modal>
  );
}
