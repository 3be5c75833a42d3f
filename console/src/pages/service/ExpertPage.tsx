// 专家服务: expert requests and the pools (this node's and its ancestors'). An account manager asks for an
// expert on a customer's case; a pool manager assigns one (or the best match); the expert records the
// outcome (a summary and the solution document of the same customer); the requester closes or cancels —
// each offered only as expertActions says the API would take it.
import { PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Table, Tabs, Tag, type ButtonProps } from "antd";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, type ApiPath } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { components } from "../../api/gen/service";
import { tablePagination, usePagedList as useList } from "../../api/useTmfList";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { CustomerPicker } from "./CustomerPicker";
import { expertActions, type ExpertAction, type ExpertRequest } from "./logic";

type Expert = components["schemas"]["ExpertRead"];
type Doc = components["schemas"]["DocumentRead"];
const REQUESTS = "/api/v1/service/expertRequest";
const STEPS = {
  assign: "/api/v1/service/expertRequest/{request_id}/assign",
  outcome: "/api/v1/service/expertRequest/{request_id}/outcome",
  close: "/api/v1/service/expertRequest/{request_id}/close",
  cancel: "/api/v1/service/expertRequest/{request_id}/cancel",
} as const satisfies Record<ExpertAction, ApiPath>;

interface RequestValues {
  subject: string;
  customer: string;
  domain: string;
  industry?: string;
  description?: string;
}
interface StepValues {
  expertId?: string;
  summary?: string;
  documentId?: string;
  note?: string;
}

export default function ExpertPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const claims = session?.claims;
  const here = nodeInfo()?.code ?? claims?.node;
  const perms = {
    read: hasPermission(claims, "service.expert:read"),
    write: hasPermission(claims, "service.expert:write"),
    request: hasPermission(claims, "service.expert:request"),
  };
  const pool = useList<Expert>("/api/v1/service/expert", {});
  const requests = useList<ExpertRequest>(REQUESTS, {});
  const [active, setActive] = useState<Expert[]>([]);
  const [newOpen, setNewOpen] = useState(false);
  const [step, setStep] = useState<{ action: ExpertAction; request: ExpertRequest } | null>(null);
  const [docs, setDocs] = useState<Doc[]>([]);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [newForm] = Form.useForm<RequestValues>();
  const [stepForm] = Form.useForm<StepValues>();
  const me = claims && here ? `${claims.sub}@${here}` : null;
  const myExpertIds = useMemo(() => new Set(active.filter((e) => e.username === me).map((e) => e.id)), [active, me]);
  const tags = (xs: string[] | undefined) => (xs ?? []).map((x) => <Tag key={x}>{x}</Tag>);
  const req = (field: string) => [{ required: true, whitespace: true, message: t("login.required", { field }) }];

  useEffect(() => {
    // every active expert the pools here offer (an assignment names one; the outcome is the expert's own)
    api
      .get<Expert[]>("/api/v1/service/expert", { query: { limit: 1000 } })
      .then((r) => setActive(r.data.filter((e) => e.isActive !== false)))
      .catch(() => setActive([]));
  }, []);

  const customerId = step?.request.relatedParty?.find((p) => p.role === "customer")?.id;
  useEffect(() => {
    if (step?.action !== "outcome" || !customerId) return;
    api
      .get<Doc[]>("/api/v1/service/document", { query: { "relatedParty.id": customerId, limit: 100, sort: "-lastUpdate" } })
      .then((r) => setDocs(r.data))
      .catch(() => setDocs([]));
  }, [step, customerId]);

  const create = async (v: RequestValues) => {
    setBusy(true);
    setFormError(null);
    try {
      await api.post<ExpertRequest>(REQUESTS, {
        body: { subject: v.subject, domain: v.domain, industry: v.industry || null, description: v.description ?? "", relatedParty: [{ id: v.customer, role: "customer" }] },
      });
      message.success(t("common.created"));
      setNewOpen(false);
      newForm.resetFields();
      requests.reload();
    } catch (e) {
      setFormError(applyFieldErrors(newForm, e, ["subject", "customer", "domain", "industry", "description"], (f) => (f.startsWith("relatedParty") ? "customer" : f)));
    } finally {
      setBusy(false);
    }
  };

  const open = (action: ExpertAction, request: ExpertRequest) => {
    stepForm.resetFields();
    setFormError(null);
    setDocs([]);
    setStep({ action, request });
  };
  const submitStep = async (v: StepValues) => {
    if (!step) return;
    const { action, request } = step;
    const body =
      action === "assign"
        ? { expertId: v.expertId || null }
        : action === "outcome"
          ? { summary: v.summary ?? "", documentId: v.documentId ?? "" }
          : { note: v.note || null };
    setBusy(true);
    setFormError(null);
    try {
      await api.post<ExpertRequest>(STEPS[action], {
        path: { request_id: request.id },
        body,
      });
      message.success(t("service.moved"));
      setStep(null);
      requests.reload();
    } catch (e) {
      setFormError(applyFieldErrors(stepForm, e, action === "assign" ? ["expertId"] : action === "outcome" ? ["summary", "documentId"] : ["note"]));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t("service.experts")} data-testid="expert-page">
      <Tabs
        items={[
          {
            key: "requests",
            label: t("service.requests"),
            children: (
              <>
                {perms.request && (
                  <Button
                    type="primary"
                    icon={<PlusOutlined />}
                    style={{ marginBottom: 12 }}
                    onClick={() => {
                      setFormError(null);
                      setNewOpen(true);
                    }}
                    data-testid="expert-request-new"
                  >
                    {t("service.newRequest")}
                  </Button>
                )}
                <Table<ExpertRequest>
                  rowKey="id"
                  size="middle"
                  loading={requests.loading}
                  dataSource={requests.rows}
                  data-testid="expert-requests"
                  pagination={tablePagination(requests, t)}
                  columns={[
                    { title: t("service.subject"), dataIndex: "subject" },
                    { title: t("service.customer"), render: (_, r) => r.relatedParty?.find((p) => p.role === "customer")?.name ?? "—" },
                    { title: t("service.domain"), dataIndex: "domain" },
                    { title: t("service.requestedBy"), dataIndex: "requestedBy" },
                    { title: t("service.expert"), render: (_, r) => r.expert?.name ?? r.expert?.id ?? "—" },
                    { title: t("service.status"), render: (_, r) => <Tag>{t(`service.requestStatuses.${r.status ?? ""}`, { defaultValue: r.status ?? "—" })}</Tag> },
                    { title: t("service.outcomeSummary"), render: (_, r) => r.outcomeSummary ?? "—" },
                    { title: t("service.outcomeDocument"), render: (_, r) => r.outcomeDocument?.name ?? r.outcomeDocument?.id ?? "—" },
                    { title: t("common.updatedAt"), render: (_, r) => formatTime(r.lastUpdate) },
                    {
                      title: t("service.actions"),
                      render: (_, r) => (
                        <Space size={4} wrap>
                          {expertActions(r, here, perms, myExpertIds).map((a) => (
                            <Button key={a} size="small" danger={a === "cancel"} onClick={() => open(a, r)} data-testid={`expert-${a}`}>
                              {t(`service.expertActions.${a}`)}
                            </Button>
                          ))}
                        </Space>
                      ),
                    },
                  ]}
                />
              </>
            ),
          },
          {
            key: "pool",
            label: t("service.pool"),
            children: (
              <Table<Expert>
                rowKey="id"
                size="middle"
                loading={pool.loading}
                dataSource={pool.rows}
                data-testid="expert-pool"
                pagination={tablePagination(pool, t)}
                columns={[
                  { title: t("common.name"), dataIndex: "name" },
                  { title: t("service.username"), dataIndex: "username" },
                  { title: t("service.domains"), render: (_, e) => tags(e.domains) },
                  { title: t("service.industries"), render: (_, e) => tags(e.industries) },
                  { title: t("service.active"), render: (_, e) => (e.isActive ? <Tag color="green">{t("common.yes")}</Tag> : <Tag>{t("common.no")}</Tag>) },
                  { title: t("common.owner"), dataIndex: "ownerNode" },
                ]}
              />
            ),
          },
        ]}
      />
      <Modal
        open={newOpen}
        title={t("service.newRequest")}
        onCancel={() => setNewOpen(false)}
        onOk={() => newForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "expert-request-save" } as ButtonProps}
      >
        {formError && newOpen && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} data-testid="form-error" />}
        <Form form={newForm} layout="vertical" onFinish={create}>
          <Form.Item name="subject" label={t("service.subject")} rules={req(t("service.subject"))}>
            <Input maxLength={200} data-testid="request-subject" />
          </Form.Item>
          <Form.Item name="customer" label={t("service.customer")} rules={req(t("service.customer"))}>
            <CustomerPicker testId="request-customer" />
          </Form.Item>
          <Form.Item name="domain" label={t("service.domain")} rules={req(t("service.domain"))}>
            <Input maxLength={64} data-testid="request-domain" />
          </Form.Item>
          <Form.Item name="industry" label={t("service.industry")}>
            <Input maxLength={64} data-testid="request-industry" />
          </Form.Item>
          <Form.Item name="description" label={t("service.description")}>
            <Input.TextArea rows={3} maxLength={4000} />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={step !== null}
        title={step ? `${t(`service.expertActions.${step.action}`)} · ${step.request.subject ?? ""}` : ""}
        onCancel={() => setStep(null)}
        onOk={() => stepForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "expert-step-ok" } as ButtonProps}
      >
        {formError && step && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} data-testid="form-error" />}
        <Form form={stepForm} layout="vertical" onFinish={submitStep}>
          {step?.action === "assign" && (
            <Form.Item name="expertId" label={t("service.expert")} extra={t("service.bestMatchHint")}>
              <Select
                allowClear
                showSearch
                optionFilterProp="label"
                placeholder={t("service.bestMatch")}
                data-testid="assign-expert"
                options={active.map((e) => ({ value: e.id, label: `${e.name ?? e.username} · ${(e.domains ?? []).join("/")} · ${e.ownerNode}` }))}
              />
            </Form.Item>
          )}
          {step?.action === "outcome" && (
            <>
              <Form.Item name="summary" label={t("service.outcomeSummary")} rules={req(t("service.outcomeSummary"))}>
                <Input.TextArea rows={4} maxLength={4000} data-testid="outcome-summary" />
              </Form.Item>
              <Form.Item name="documentId" label={t("service.outcomeDocument")} rules={req(t("service.outcomeDocument"))} extra={t("service.outcomeDocumentHint")}>
                <Select
                  data-testid="outcome-document"
                  notFoundContent={t("service.noDocuments")}
                  options={docs.map((d) => ({ value: d.id, label: `${d.title} · ${t(`service.categories.${d.category ?? ""}`, { defaultValue: d.category ?? "" })}` }))}
                />
              </Form.Item>
            </>
          )}
          {(step?.action === "close" || step?.action === "cancel") && (
            <Form.Item name="note" label={t("service.reason")}>
              <Input.TextArea rows={2} maxLength={1000} data-testid="expert-note" />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Card>
  );
}
