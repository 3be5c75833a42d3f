// One campaign: its fields and the actions the API allows this user (approve by someone other than the
// author, launch, close — at the author node only); the target work list at this node (contact attempts
// and responses, worked where the customer is); and the evaluation per node with drill-down.
import { Alert, App, Breadcrumb, Button, Card, DatePicker, Descriptions, Form, Input, Modal, Result, Select, Space, Spin, Table, Tabs, Tag, Typography, type TableProps } from "antd";
import type { Dayjs } from "dayjs";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError, applyFieldErrors } from "../../api/errors";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { CampaignForm, CampaignStatusTag } from "./CampaignList";
import { formatMoney } from "./logic";
import { campaignActions, canDrill, canEditCampaign, canWorkTarget, CHANNELS, drillInto, drillUp, responseMoves, type Campaign, type CampaignAction, type CampaignTarget, type Evaluation, type EvaluationLine } from "./marketing";

const CAMPAIGN = "/api/v1/sales/campaigns/{campaign_id}";
const ACTION_PATHS = {
  approve: "/api/v1/sales/campaigns/{campaign_id}/approve",
  launch: "/api/v1/sales/campaigns/{campaign_id}/launch",
  close: "/api/v1/sales/campaigns/{campaign_id}/close",
} as const;
const TARGETS = "/api/v1/sales/campaigns/{campaign_id}/targets";
const ATTEMPT = "/api/v1/sales/campaigns/{campaign_id}/targets/{customer_id}/attempt";
const RESPONSE = "/api/v1/sales/campaigns/{campaign_id}/targets/{customer_id}/response";
const EVALUATION = "/api/v1/sales/campaigns/{campaign_id}/evaluation";
const PAGE = 20;

export default function CampaignDetail() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const session = useSession();
  const { id = "" } = useParams();
  const [campaign, setCampaign] = useState<Campaign | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<CampaignAction | null>(null);
  const [editing, setEditing] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Campaign>(CAMPAIGN, { path: { campaign_id: id }, signal: ctrl.signal })
      .then((r) => {
        setCampaign(r.data);
        setError(null);
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted) return;
        setError(e instanceof ApiError && e.status === 404 ? t("salesMarketing.notFound") : e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [id, t]);

  const act = async (action: CampaignAction) => {
    setBusy(action);
    try {
      const r = await api.post<Campaign>(ACTION_PATHS[action], { path: { campaign_id: id } });
      setCampaign(r.data);
      message.success(t(`salesMarketing.done.${action}`));
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  if (error) return <Result status="warning" title={error} extra={<Button onClick={() => navigate("/sales/campaigns")}>{t("common.back")}</Button>} />;
  if (!campaign) return <Spin />;
  const c = campaign;
  const actions = campaignActions(c, session?.claims);
  const filter = Object.entries(c.segment.filter ?? {});
  return (
    <Space direction="vertical" style={{ width: "100%" }} data-testid="campaign-detail">
      {editing && (
        <CampaignForm
          campaign={c}
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            setCampaign(saved);
            setEditing(false);
          }}
        />
      )}
      <Card
        title={c.name}
        extra={
          <Space>
            {canEditCampaign(c, session?.claims) && (
              <Button onClick={() => setEditing(true)} data-testid="campaign-edit">
                {t("salesMarketing.editDraft")}
              </Button>
            )}
            {actions.map((a) => (
              <Button key={a} type="primary" loading={busy === a} onClick={() => void act(a)} data-testid={`campaign-${a}`}>
                {t(`salesMarketing.actions.${a}`)}
              </Button>
            ))}
            <Button onClick={() => navigate("/sales/campaigns")}>{t("common.back")}</Button>
          </Space>
        }
      >
        <Descriptions column={2} size="small" bordered>
          <Descriptions.Item label={t("salesMarketing.status")}>
            <span data-testid="campaign-status">
              <CampaignStatusTag status={c.status} />
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.channel")}>{t(`salesMarketing.channels.${c.channel}`, { defaultValue: c.channel })}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.budget")}>
            <span data-testid="campaign-budget">{formatMoney(c.budget)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.period")}>
            <span data-testid="campaign-period">
              {c.period.startDateTime.slice(0, 10)} ~ {c.period.endDateTime.slice(0, 10)}
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.segment")}>
            {filter.length ? filter.map(([k, v]) => <Tag key={k}>{`${k} = ${v}`}</Tag>) : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.targets")}>{c.segment.targetCount ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.offers")}>{c.offers.length ? c.offers.map((o) => <Tag key={o.id}>{o.name ?? o.id}</Tag>) : "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.ownerNode")}>{c.ownerNode}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.createdBy")}>{c.createdBy}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.approvedBy")}>{c.approvedBy ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.launchedAt")}>{formatTime(c.launchedAt)}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.closedAt")}>{formatTime(c.closedAt)}</Descriptions.Item>
          <Descriptions.Item label={t("salesMarketing.objective")} span={2}>
            {c.objective}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      {c.status === "draft" || c.status === "approved" ? (
        <Alert type="info" showIcon message={t("salesMarketing.notLaunched")} />
      ) : (
        <Card size="small">
          <Tabs
            items={[
              { key: "targets", label: t("salesMarketing.workList"), children: <TargetList campaign={c} /> },
              { key: "evaluation", label: t("salesMarketing.evaluation"), children: <EvaluationView campaign={c} /> },
            ]}
          />
        </Card>
      )}
    </Space>
  );
}

function TargetList({ campaign }: { campaign: Campaign }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState<CampaignTarget[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);
  const [attempting, setAttempting] = useState<CampaignTarget | null>(null);
  const [responding, setResponding] = useState<CampaignTarget | null>(null);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    api
      .get<CampaignTarget[]>(TARGETS, { path: { campaign_id: campaign.id }, query: { offset: (page - 1) * PAGE, limit: PAGE }, signal: ctrl.signal })
      .then((r) => {
        setRows(r.data);
        setTotal(r.total ?? r.data.length);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [campaign.id, page, reloads, message]);

  const columns: TableProps<CampaignTarget>["columns"] = [
    { key: "customer", title: t("salesMarketing.customer"), render: (_, r) => r.customer.name ?? r.customer.id },
    { key: "node", title: t("salesMarketing.node"), render: (_, r) => <Tag>{r.node}</Tag> },
    { key: "accountManager", title: t("salesMarketing.accountManager"), render: (_, r) => r.accountManager ?? "—" },
    {
      key: "attempts",
      title: t("salesMarketing.attempts"),
      render: (_, r) => {
        const last = r.attempts[r.attempts.length - 1];
        return r.attempts.length ? `${r.attempts.length} · ${formatTime(last?.at)}` : "—";
      },
    },
    { key: "response", title: t("salesMarketing.response"), render: (_, r) => <ResponseTag response={r.response} /> },
    { key: "opportunity", title: t("salesMarketing.opportunity"), render: (_, r) => (r.opportunity ? <Link to={`/sales/opportunities/${r.opportunity.id}`}>{t("salesMarketing.open")}</Link> : "—") },
    {
      key: "work",
      title: "",
      render: (_, r) =>
        canWorkTarget(r, campaign, session?.claims) && (
          <Space>
            <Button size="small" onClick={() => setAttempting(r)} data-testid="target-attempt">
              {t("salesMarketing.recordAttempt")}
            </Button>
            {responseMoves(r.response).length > 0 && (
              <Button size="small" type="primary" onClick={() => setResponding(r)} data-testid="target-respond">
                {t("salesMarketing.recordResponse")}
              </Button>
            )}
          </Space>
        ),
    },
  ];
  const done = () => {
    setAttempting(null);
    setResponding(null);
    reload();
  };
  return (
    <>
      <Table<CampaignTarget>
        rowKey={(r) => `${r.customer.id}-${r.node}`}
        size="small"
        loading={loading}
        dataSource={rows}
        columns={columns}
        pagination={{ current: page, pageSize: PAGE, total, onChange: setPage, showTotal: (n) => t("common.total", { count: n }) }}
        data-testid="target-table"
      />
      {attempting && <AttemptForm campaign={campaign} target={attempting} onClose={() => setAttempting(null)} onDone={done} />}
      {responding && <ResponseForm campaign={campaign} target={responding} onClose={() => setResponding(null)} onDone={done} />}
    </>
  );
}

function ResponseTag({ response }: { response: string }) {
  const { t } = useTranslation();
  const color = { interested: "blue", notInterested: "default", converted: "green" }[response];
  return <Tag color={color}>{t(`salesMarketing.responses.${response}`, { defaultValue: response })}</Tag>;
}

function AttemptForm({ campaign, target, onClose, onDone }: { campaign: Campaign; target: CampaignTarget; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ channel?: string; note?: string }>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: { channel?: string; note?: string }) => {
    setBusy(true);
    try {
      await api.post(ATTEMPT, { path: { campaign_id: campaign.id, customer_id: target.customer.id }, body: { channel: v.channel, note: v.note?.trim() || undefined } });
      message.success(t("salesMarketing.saved"));
      onDone();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["channel", "note"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={`${t("salesMarketing.recordAttempt")} · ${target.customer.name ?? target.customer.id}`} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ channel: campaign.channel }} data-testid="attempt-form">
        <Form.Item name="channel" label={t("salesMarketing.channel")}>
          <Select options={CHANNELS.map((c) => ({ value: c, label: t(`salesMarketing.channels.${c}`) }))} />
        </Form.Item>
        <Form.Item name="note" label={t("salesMarketing.note")}>
          <Input.TextArea rows={2} maxLength={2000} data-testid="attempt-note" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

interface ResponseValues {
  response?: string;
  note?: string;
  oppName?: string;
  amount?: string;
  closeDate?: Dayjs;
}

function ResponseForm({ campaign, target, onClose, onDone }: { campaign: Campaign; target: CampaignTarget; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<ResponseValues>();
  const response = Form.useWatch("response", form);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: ResponseValues) => {
    setBusy(true);
    setFormError(null);
    const opportunity =
      v.response === "converted" ? { name: v.oppName?.trim(), expectedAmount: { unit: campaign.budget.unit, value: v.amount?.trim() }, closeDate: v.closeDate?.format("YYYY-MM-DD") } : undefined;
    try {
      await api.post(RESPONSE, { path: { campaign_id: campaign.id, customer_id: target.customer.id }, body: { response: v.response, note: v.note?.trim() || undefined, opportunity } });
      message.success(t("salesMarketing.saved"));
      onDone();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["response", "note"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={`${t("salesMarketing.recordResponse")} · ${target.customer.name ?? target.customer.id}`} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="response-error" />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} data-testid="response-form">
        <Form.Item name="response" label={t("salesMarketing.response")} rules={[{ required: true, message: t("salesMarketing.required") }]}>
          <Select options={responseMoves(target.response).map((r) => ({ value: r, label: t(`salesMarketing.responses.${r}`) }))} data-testid="response-select" />
        </Form.Item>
        <Form.Item name="note" label={t("salesMarketing.note")}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
        {response === "converted" && (
          <>
            <Typography.Text type="secondary">{t("salesMarketing.convertHint")}</Typography.Text>
            <Form.Item name="oppName" label={t("salesMarketing.opportunityName")} initialValue={`${campaign.name} · ${target.customer.name ?? ""}`}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name="amount" label={`${t("salesMarketing.expectedAmount")} (${campaign.budget.unit})`}>
              <Input placeholder="100000.00" />
            </Form.Item>
            <Form.Item name="closeDate" label={t("salesMarketing.closeDate")}>
              <DatePicker />
            </Form.Item>
          </>
        )}
      </Form>
    </Modal>
  );
}

function EvaluationView({ campaign }: { campaign: Campaign }) {
  const { t } = useTranslation();
  const session = useSession();
  const [path, setPath] = useState<string[]>(() => (session?.claims.scope_node ? [session.claims.scope_node] : []));
  const [data, setData] = useState<Evaluation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const node = path[path.length - 1];

  useEffect(() => {
    const ctrl = new AbortController();
    api
      .get<Evaluation>(EVALUATION, { path: { campaign_id: campaign.id }, query: { node }, signal: ctrl.signal })
      .then((r) => {
        setData(r.data);
        setError(null);
        setPath((p) => (p.length === 0 ? [r.data.node] : p)); // the first answer names the scope's node
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [campaign.id, node]);

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!data) return <Spin />;
  const current = data.node;
  const columns: TableProps<EvaluationLine>["columns"] = [
    {
      key: "node",
      title: t("salesMarketing.node"),
      render: (_, r) =>
        canDrill(r.node, current) ? (
          <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setPath((p) => drillInto(p, r.node))} data-testid={`eval-drill-${r.node}`}>
            {r.node}
          </Button>
        ) : (
          <span>
            {r.node} <Typography.Text type="secondary">({t("salesMarketing.own")})</Typography.Text>
          </span>
        ),
    },
    { key: "targets", title: t("salesMarketing.targets"), align: "right", dataIndex: "targets" },
    { key: "contacted", title: t("salesMarketing.contacted"), align: "right", dataIndex: "contacted" },
    { key: "responders", title: t("salesMarketing.responders"), align: "right", dataIndex: "responders" },
    { key: "conversions", title: t("salesMarketing.conversions"), align: "right", dataIndex: "conversions" },
    { key: "rate", title: t("salesMarketing.responseRate"), align: "right", render: (_, r) => (r.responseRate ? `${r.responseRate}%` : "—") },
    { key: "pipeline", title: t("salesMarketing.pipeline"), align: "right", render: (_, r) => formatMoney(r.pipeline) },
    { key: "won", title: t("salesMarketing.won"), align: "right", render: (_, r) => formatMoney(r.won) },
    { key: "cost", title: t("salesMarketing.cost"), align: "right", render: (_, r) => formatMoney(r.cost) },
    { key: "cpr", title: t("salesMarketing.costPerResponse"), align: "right", render: (_, r) => formatMoney(r.costPerResponse) },
  ];
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Breadcrumb items={path.map((n, i) => ({ title: i < path.length - 1 ? <a onClick={() => setPath((p) => drillUp(p, i))}>{n}</a> : n }))} data-testid="eval-breadcrumb" />
      <Table<EvaluationLine>
        rowKey="node"
        size="small"
        pagination={false}
        dataSource={data.lines}
        columns={columns}
        data-testid="evaluation-table"
        summary={() => (
          <Table.Summary.Row data-testid="evaluation-total">
            <Table.Summary.Cell index={0}>{t("salesMarketing.total")}</Table.Summary.Cell>
            <Table.Summary.Cell index={1} align="right">{data.total.targets}</Table.Summary.Cell>
            <Table.Summary.Cell index={2} align="right">{data.total.contacted}</Table.Summary.Cell>
            <Table.Summary.Cell index={3} align="right">{data.total.responders}</Table.Summary.Cell>
            <Table.Summary.Cell index={4} align="right">{data.total.conversions}</Table.Summary.Cell>
            <Table.Summary.Cell index={5} align="right">{data.total.responseRate ? `${data.total.responseRate}%` : "—"}</Table.Summary.Cell>
            <Table.Summary.Cell index={6} align="right">{formatMoney(data.total.pipeline)}</Table.Summary.Cell>
            <Table.Summary.Cell index={7} align="right">{formatMoney(data.total.won)}</Table.Summary.Cell>
            <Table.Summary.Cell index={8} align="right">{formatMoney(data.total.cost)}</Table.Summary.Cell>
            <Table.Summary.Cell index={9} align="right">{formatMoney(data.total.costPerResponse)}</Table.Summary.Cell>
          </Table.Summary.Row>
        )}
      />
    </Space>
  );
}
