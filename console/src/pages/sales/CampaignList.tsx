// Campaigns (营销活动): the list (status filter, paged by the server) and the draft form, which also
// edits a draft (merge patch; only a draft, at its author node). A campaign is drafted at the user's node;
// edit / approve / launch / close are on its detail page.
import { Alert, App, Button, Card, DatePicker, Form, Input, Modal, Select, Space, Table, Tag, type TableProps } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatMoney } from "./logic";
import { CAMPAIGN_STATUSES, CHANNELS, SEGMENT_ATTRIBUTES, segmentFilter, segmentRows, type Campaign } from "./marketing";

export const CAMPAIGNS = "/api/v1/sales/campaigns";
const CAMPAIGN = "/api/v1/sales/campaigns/{campaign_id}";
const SELLABLE = "/api/v1/sales/sellableOffering";

export function CampaignStatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  const color = { draft: "default", approved: "gold", running: "green", closed: "default" }[status] ?? "default";
  return <Tag color={color}>{t(`salesMarketing.campaignStatus.${status}`, { defaultValue: status })}</Tag>;
}

export default function CampaignList() {
  const { t } = useTranslation();
  const session = useSession();
  const [status, setStatus] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const list = usePagedList<Campaign>(CAMPAIGNS, { status, sort: "-createdAt" });
  const columns: TableProps<Campaign>["columns"] = [
    { key: "name", title: t("salesMarketing.campaignName"), render: (_, r) => <Link to={`/sales/campaigns/${r.id}`}>{r.name}</Link> },
    { key: "status", title: t("salesMarketing.status"), render: (_, r) => <CampaignStatusTag status={r.status} /> },
    { key: "channel", title: t("salesMarketing.channel"), render: (_, r) => t(`salesMarketing.channels.${r.channel}`, { defaultValue: r.channel }) },
    { key: "budget", title: t("salesMarketing.budget"), align: "right", render: (_, r) => formatMoney(r.budget) },
    { key: "period", title: t("salesMarketing.period"), render: (_, r) => `${r.period.startDateTime.slice(0, 10)} ~ ${r.period.endDateTime.slice(0, 10)}` },
    { key: "targets", title: t("salesMarketing.targets"), align: "right", render: (_, r) => r.segment.targetCount ?? "—" },
    { key: "ownerNode", title: t("salesMarketing.ownerNode"), render: (_, r) => <Tag>{r.ownerNode}</Tag> },
  ];
  return (
    <Card
      title={t("salesMarketing.campaigns")}
      data-testid="campaign-page"
      extra={
        hasPermission(session?.claims, "sales.campaign:write") && (
          <Button type="primary" onClick={() => setCreating(true)} data-testid="campaign-new">
            {t("salesMarketing.newCampaign")}
          </Button>
        )
      }
    >
      <Space style={{ marginBottom: 16 }}>
        <Select
          allowClear
          placeholder={t("salesMarketing.status")}
          value={status}
          onChange={setStatus}
          options={CAMPAIGN_STATUSES.map((s) => ({ value: s, label: t(`salesMarketing.campaignStatus.${s}`) }))}
          style={{ minWidth: 160 }}
          data-testid="filter-status"
        />
      </Space>
      <Table<Campaign> rowKey="id" size="middle" loading={list.loading} dataSource={list.rows} columns={columns} pagination={tablePagination(list, t)} data-testid="campaign-table" />
      {creating && <CampaignForm onClose={() => setCreating(false)} />}
    </Card>
  );
}

interface Values {
  name: string;
  objective: string;
  channel: string;
  budget: string;
  unit: string;
  period: [Dayjs, Dayjs];
  segment: { key?: string; value?: string }[];
  offers?: string[];
}

const FIELDS = ["name", "objective", "channel", "budget", "period", "segment", "offers"];

/** A campaign's values in the form (editing a draft). */
function formValues(c: Campaign): Values {
  return {
    name: c.name,
    objective: c.objective,
    channel: c.channel,
    budget: String(c.budget.value),
    unit: c.budget.unit,
    period: [dayjs(c.period.startDateTime.slice(0, 10)), dayjs(c.period.endDateTime.slice(0, 10))],
    segment: segmentRows(c.segment.filter),
    offers: c.offers.map((o) => o.id),
  };
}

/** The draft form, new (POST) or a draft edited (`campaign`: a merge patch of every field, then
 * `onSaved` with the stored campaign); a 422's field errors are shown at their fields. */
export function CampaignForm({ campaign, onClose, onSaved }: { campaign?: Campaign; onClose: () => void; onSaved?: (c: Campaign) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [offers, setOffers] = useState<{ id: string; name?: string }[]>([]);
  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<{ id: string; name: string }[]>(SELLABLE, { signal: ctrl.signal })
      .then((r) => setOffers(r.data))
      .catch(() => undefined); // no offers to pick: the campaign may still name none
    return () => ctrl.abort();
  }, []);

  const submit = async (v: Values) => {
    setBusy(true);
    setFormError(null);
    try {
      const body = {
        name: v.name,
        objective: v.objective,
        channel: v.channel,
        budget: { unit: v.unit, value: v.budget?.trim() },
        period: v.period ? { startDateTime: v.period[0].format("YYYY-MM-DD"), endDateTime: v.period[1].format("YYYY-MM-DD") } : undefined,
        segment: { filter: segmentFilter(v.segment) },
        offers: (v.offers ?? []).map((id) => ({ id })),
      };
      if (campaign) {
        const { data } = await api.patch<Campaign>(CAMPAIGN, { path: { campaign_id: campaign.id }, body });
        message.success(t("salesMarketing.draftSaved"));
        onSaved?.(data);
        return;
      }
      const { data } = await api.post<Campaign>(CAMPAIGNS, { body });
      message.success(t("common.created"));
      navigate(`/sales/campaigns/${data.id}`);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal open title={campaign ? t("salesMarketing.editDraft") : t("salesMarketing.newCampaign")} onCancel={onClose} onOk={() => form.submit()} okText={t("salesMarketing.saveDraft")} confirmLoading={busy} width={720} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={campaign ? formValues(campaign) : { unit: "CNY", channel: "visit", segment: [{ key: "grade", value: "A" }] }} data-testid="campaign-form">
        <Form.Item name="name" label={t("salesMarketing.campaignName")}>
          <Input maxLength={200} data-testid="field-name" />
        </Form.Item>
        <Form.Item name="objective" label={t("salesMarketing.objective")}>
          <Input.TextArea rows={2} maxLength={4000} data-testid="field-objective" />
        </Form.Item>
        <Space.Compact block>
          <Form.Item name="channel" label={t("salesMarketing.channel")} style={{ width: "30%" }}>
            <Select options={CHANNELS.map((c) => ({ value: c, label: t(`salesMarketing.channels.${c}`) }))} data-testid="field-channel" />
          </Form.Item>
          <Form.Item name="unit" label={t("salesMarketing.currency")} style={{ width: "20%" }}>
            <Select options={["CNY", "USD", "EUR", "HKD"].map((u) => ({ value: u, label: u }))} />
          </Form.Item>
          <Form.Item name="budget" label={t("salesMarketing.budget")} style={{ width: "50%" }}>
            <Input placeholder="100000.00" data-testid="field-budget" />
          </Form.Item>
        </Space.Compact>
        <Form.Item name="period" label={t("salesMarketing.period")} extra={t("salesMarketing.periodHint")}>
          <DatePicker.RangePicker style={{ width: "100%" }} data-testid="field-period" />
        </Form.Item>
        <Form.Item name="segment" label={t("salesMarketing.segment")} extra={t("salesMarketing.segmentHint")}>
          <SegmentEditor />
        </Form.Item>
        <Form.Item name="offers" label={t("salesMarketing.offers")}>
          <Select mode="multiple" allowClear optionFilterProp="label" options={[...offers, ...(campaign?.offers ?? []).filter((o) => !offers.some((x) => x.id === o.id))].map((o) => ({ value: o.id, label: o.name ?? o.id }))} data-testid="field-offers" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

type Row = { key?: string; value?: string };

/** The segment's filter rows (attribute = value); the Form.Item around it shows the server's error. */
function SegmentEditor({ value = [], onChange }: { value?: Row[]; onChange?: (rows: Row[]) => void }) {
  const { t } = useTranslation();
  const set = (i: number, row: Row) => onChange?.(value.map((r, j) => (j === i ? row : r)));
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="field-segment">
      {value.map((r, i) => (
        <Space.Compact key={i} block>
          <Select value={r.key} onChange={(k: string) => set(i, { ...r, key: k })} options={SEGMENT_ATTRIBUTES.map((a) => ({ value: a, label: a }))} style={{ width: "35%" }} />
          <Input value={r.value} onChange={(e) => set(i, { ...r, value: e.target.value })} placeholder="A,B" style={{ width: "55%" }} />
          <Button onClick={() => onChange?.(value.filter((_, j) => j !== i))}>{t("salesMarketing.remove")}</Button>
        </Space.Compact>
      ))}
      <Button size="small" onClick={() => onChange?.([...value, {}])}>
        {t("salesMarketing.addCondition")}
      </Button>
    </Space>
  );
}
