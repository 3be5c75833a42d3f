// Customer visits (客户拜访): a month calendar of the visits planned in it (one list read for the month),
// the month's completion (VISIT_DONE), planning a visit, and — for a planned visit at its owner node —
// recording it (outcome, minutes, follow-up tasks) or cancelling it.
import { Alert, App, Badge, Button, Calendar, Card, Col, DatePicker, Descriptions, Drawer, Form, Input, List, Modal, Row, Select, Space, Statistic, Tag, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { CustomerSelect } from "./CustomerSelect";
import { bucketByDay, canRecord, cleanParticipants, completionTotal, monthWindow, OUTCOMES, type CompletionLine, type Visit } from "./marketing";

export const VISITS = "/api/v1/sales/visits";
const VISIT = "/api/v1/sales/visits/{visit_id}";
const RECORD = "/api/v1/sales/visits/{visit_id}/record";
const COMPLETION = "/api/v1/sales/visitCompletion";

const STATUS_BADGE: Record<string, "processing" | "success" | "default"> = { planned: "processing", done: "success", cancelled: "default" };

export default function VisitCalendar() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const [month, setMonth] = useState<Dayjs>(() => dayjs().startOf("month"));
  const [visits, setVisits] = useState<Visit[]>([]);
  const [completion, setCompletion] = useState<CompletionLine[]>([]);
  const [reloads, setReloads] = useState(0);
  const [planning, setPlanning] = useState<Dayjs | null>(null);
  const [open, setOpen] = useState<Visit | null>(null);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const monthKey = month.format("YYYY-MM");
  // /sales/visits/:id (the 360 view's link): the visit's month, with the visit open
  const { id } = useParams();
  useEffect(() => {
    if (!id) return;
    const ctrl = new AbortController();
    api
      .get<Visit>(VISIT, { path: { visit_id: id }, signal: ctrl.signal })
      .then((r) => {
        setMonth(dayjs(r.data.plannedAt).startOf("month"));
        setOpen(r.data);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [id, message]);

  useEffect(() => {
    const ctrl = new AbortController();
    const first = dayjs(`${monthKey}-01`);
    Promise.all([
      api.get<Visit[]>(VISITS, { query: { ...monthWindow(first), sort: "plannedAt", limit: 1000 }, signal: ctrl.signal }),
      api.get<{ lines: CompletionLine[] }>(COMPLETION, { query: { start: first.format("YYYY-MM-DD"), end: first.add(1, "month").format("YYYY-MM-DD") }, signal: ctrl.signal }),
    ])
      .then(([v, c]) => {
        setVisits(v.data);
        setCompletion(c.data.lines);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      });
    return () => ctrl.abort();
  }, [monthKey, reloads, message]);

  const days = useMemo(() => bucketByDay(visits), [visits]);
  const total = completionTotal(completion);
  const canWrite = hasPermission(session?.claims, "sales.opportunity:write");

  return (
    <Card
      title={t("salesMarketing.visits")}
      data-testid="visit-page"
      extra={
        canWrite && (
          <Button type="primary" onClick={() => setPlanning(dayjs().add(1, "day").hour(10).minute(0).second(0))} data-testid="visit-new">
            {t("salesMarketing.planVisit")}
          </Button>
        )
      }
    >
      <Row gutter={16} style={{ marginBottom: 8 }}>
        <Col span={6}>
          <Statistic title={t("salesMarketing.plannedInMonth")} value={total.planned} data-testid="completion-planned" />
        </Col>
        <Col span={6}>
          <Statistic title={t("salesMarketing.doneInMonth")} value={total.done} data-testid="completion-done" />
        </Col>
        <Col span={6}>
          <Statistic title={t("salesMarketing.completionRate")} value={total.rate ?? "—"} suffix={total.rate ? "%" : undefined} data-testid="completion-rate" />
        </Col>
        <Col span={6}>
          <Space wrap>
            {completion
              .filter((l) => l.planned > 0)
              .map((l) => (
                <Tag key={l.node ?? l.accountManager ?? ""}>{`${l.node ?? l.accountManager}: ${l.done}/${l.planned}`}</Tag>
              ))}
          </Space>
        </Col>
      </Row>
      <Calendar
        value={month}
        onPanelChange={(d) => setMonth(d.startOf("month"))}
        onSelect={(d, info) => {
          if (info.source === "month" || info.source === "year") setMonth(d.startOf("month"));
        }}
        cellRender={(d, info) => {
          if (info.type !== "date") return info.originNode;
          const key = d.format("YYYY-MM-DD");
          const list = days.get(key) ?? [];
          return (
            <div data-testid={`visits-${key}`}>
              {list.map((v) => (
                <div
                  key={v.id}
                  onClick={(e) => {
                    e.stopPropagation();
                    setOpen(v);
                  }}
                  style={{ cursor: "pointer", whiteSpace: "nowrap", overflow: "hidden", textOverflow: "ellipsis" }}
                  data-testid="visit-item"
                >
                  <Badge status={STATUS_BADGE[v.status] ?? "default"} text={`${dayjs(v.plannedAt).format("HH:mm")} ${v.customer.name ?? ""} ${v.subject}`} />
                </div>
              ))}
            </div>
          );
        }}
        data-testid="visit-calendar"
      />
      {planning && (
        <PlanForm
          at={planning}
          onClose={() => setPlanning(null)}
          onDone={(v) => {
            setPlanning(null);
            setMonth(dayjs(v.plannedAt).startOf("month"));
            reload();
          }}
        />
      )}
      {open && (
        <VisitDrawer
          visit={open}
          onClose={() => setOpen(null)}
          onChanged={(v) => {
            setOpen(v);
            reload();
          }}
        />
      )}
    </Card>
  );
}

interface PlanValues {
  customer?: string;
  subject?: string;
  plannedAt?: Dayjs;
  location?: string;
  purpose?: string;
  participants?: { name?: string; side?: string; role?: string }[];
}

function PlanForm({ at, onClose, onDone }: { at: Dayjs; onClose: () => void; onDone: (v: Visit) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<PlanValues>();
  const [name, setName] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: PlanValues) => {
    setBusy(true);
    setFormError(null);
    try {
      const { data } = await api.post<Visit>(VISITS, {
        body: {
          customer: v.customer ? { id: v.customer, name } : undefined,
          subject: v.subject?.trim(),
          plannedAt: v.plannedAt?.format(),
          location: v.location?.trim() || undefined,
          purpose: v.purpose?.trim() || undefined,
          participants: cleanParticipants(v.participants),
        },
      });
      message.success(t("common.created"));
      onDone(data);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["customer", "subject", "plannedAt", "location", "purpose", "participants"]));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal open title={t("salesMarketing.planVisit")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} width={640} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ plannedAt: at, participants: [{ side: "ours" }] }} data-testid="visit-form">
        <Form.Item name="customer" label={t("salesMarketing.customer")}>
          <CustomerSelect onPicked={(c) => setName(c?.name)} testId="visit-customer" />
        </Form.Item>
        <Form.Item name="subject" label={t("salesMarketing.subject")}>
          <Input maxLength={200} data-testid="visit-subject" />
        </Form.Item>
        <Space>
          <Form.Item name="plannedAt" label={t("salesMarketing.plannedAt")}>
            <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" data-testid="visit-planned-at" />
          </Form.Item>
          <Form.Item name="location" label={t("salesMarketing.location")}>
            <Input maxLength={200} />
          </Form.Item>
        </Space>
        <Form.Item name="purpose" label={t("salesMarketing.purpose")}>
          <Input.TextArea rows={2} maxLength={4000} />
        </Form.Item>
        <ParticipantsField label={t("salesMarketing.participants")} />
      </Form>
    </Modal>
  );
}

/** The participants' rows (name, ours / the customer's, role). */
function ParticipantsField({ label }: { label: string }) {
  const { t } = useTranslation();
  return (
    <Form.Item label={label}>
      <Form.List name="participants">
        {(fields, { add, remove }, { errors }) => (
          <Space direction="vertical" style={{ width: "100%" }}>
            {fields.map((f) => (
              <Space.Compact key={f.key} block>
                <Form.Item name={[f.name, "name"]} noStyle>
                  <Input placeholder={t("salesMarketing.participantName")} style={{ width: "35%" }} data-testid="participant-name" />
                </Form.Item>
                <Form.Item name={[f.name, "side"]} noStyle>
                  <Select
                    style={{ width: "25%" }}
                    options={[
                      { value: "ours", label: t("salesMarketing.sides.ours") },
                      { value: "customer", label: t("salesMarketing.sides.customer") },
                    ]}
                  />
                </Form.Item>
                <Form.Item name={[f.name, "role"]} noStyle>
                  <Input placeholder={t("salesMarketing.participantRole")} style={{ width: "30%" }} />
                </Form.Item>
                <Button onClick={() => remove(f.name)}>{t("salesMarketing.remove")}</Button>
              </Space.Compact>
            ))}
            <Button size="small" onClick={() => add({ side: "ours" })}>
              {t("salesMarketing.addParticipant")}
            </Button>
            <Form.ErrorList errors={errors} />
          </Space>
        )}
      </Form.List>
    </Form.Item>
  );
}

function VisitDrawer({ visit, onClose, onChanged }: { visit: Visit; onClose: () => void; onChanged: (v: Visit) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const [recording, setRecording] = useState(false);
  const v = visit;
  const here = hasPermission(session?.claims, "sales.opportunity:write") && session?.claims.node === v.ownerNode;
  const cancel = async () => {
    try {
      const { data } = await api.patch<Visit>(VISIT, { path: { visit_id: v.id }, body: { status: "cancelled" } });
      onChanged(data);
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <Drawer
      open
      width={560}
      title={v.subject}
      onClose={onClose}
      data-testid="visit-drawer"
      extra={
        here &&
        canRecord(v) && (
          <Space>
            <Button onClick={() => void cancel()} data-testid="visit-cancel">
              {t("salesMarketing.cancelVisit")}
            </Button>
            <Button type="primary" onClick={() => setRecording(true)} data-testid="visit-record">
              {t("salesMarketing.recordVisit")}
            </Button>
          </Space>
        )
      }
    >
      <Descriptions column={1} size="small" bordered>
        <Descriptions.Item label={t("salesMarketing.status")}>
          <Badge status={STATUS_BADGE[v.status] ?? "default"} text={t(`salesMarketing.visitStatus.${v.status}`, { defaultValue: v.status })} />
        </Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.customer")}>{v.customer.name ?? v.customer.id}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.plannedAt")}>{formatTime(v.plannedAt)}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.visitedAt")}>{formatTime(v.visitedAt)}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.location")}>{v.location ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.purpose")}>{v.purpose ?? "—"}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.participants")}>
          {v.participants.length ? v.participants.map((p, i) => <Tag key={i}>{`${p.name}${p.role ? ` · ${p.role}` : ""} (${t(`salesMarketing.sides.${p.side}`)})`}</Tag>) : "—"}
        </Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.outcome")}>{v.outcome ? t(`salesMarketing.outcomes.${v.outcome}`) : "—"}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.minutes")}>
          <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 0 }}>{v.minutes ?? "—"}</Typography.Paragraph>
        </Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.accountManager")}>{v.accountManager}</Descriptions.Item>
        <Descriptions.Item label={t("salesMarketing.ownerNode")}>{v.ownerNode}</Descriptions.Item>
      </Descriptions>
      {v.followUps.length > 0 && (
        <List
          size="small"
          header={t("salesMarketing.followUps")}
          dataSource={v.followUps}
          renderItem={(f) => (
            <List.Item>
              {f.title} · {f.dueDate ?? "—"} · {f.assignee ?? "—"} · {f.status}
            </List.Item>
          )}
        />
      )}
      {recording && (
        <RecordForm
          visit={v}
          onClose={() => setRecording(false)}
          onDone={(d) => {
            setRecording(false);
            onChanged(d);
          }}
        />
      )}
    </Drawer>
  );
}

interface RecordValues {
  visitedAt?: Dayjs;
  outcome?: string;
  minutes?: string;
  participants?: { name?: string; side?: string; role?: string }[];
  followUps?: { title?: string; dueDate?: Dayjs; assignee?: string }[];
}

function RecordForm({ visit, onClose, onDone }: { visit: Visit; onClose: () => void; onDone: (v: Visit) => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<RecordValues>();
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const submit = async (v: RecordValues) => {
    setBusy(true);
    setFormError(null);
    try {
      const { data } = await api.post<Visit>(RECORD, {
        path: { visit_id: visit.id },
        body: {
          visitedAt: v.visitedAt?.format(),
          outcome: v.outcome,
          minutes: v.minutes?.trim(),
          participants: cleanParticipants(v.participants),
          followUps: (v.followUps ?? []).filter((f) => f.title?.trim()).map((f) => ({ title: f.title?.trim(), dueDate: f.dueDate?.format("YYYY-MM-DD"), assignee: f.assignee?.trim() || undefined })),
        },
      });
      message.success(t("salesMarketing.saved"));
      onDone(data);
    } catch (e) {
      setFormError(applyFieldErrors(form, e, ["visitedAt", "outcome", "minutes", "participants", "followUps"]));
    } finally {
      setBusy(false);
    }
  };
  const now = dayjs();
  return (
    <Modal open title={t("salesMarketing.recordVisit")} onCancel={onClose} onOk={() => form.submit()} confirmLoading={busy} width={640} destroyOnHidden>
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="record-error" />}
      <Form
        form={form}
        layout="vertical"
        onFinish={(v) => void submit(v)}
        initialValues={{ visitedAt: dayjs(visit.plannedAt).isAfter(now) ? now : dayjs(visit.plannedAt), outcome: "positive", participants: visit.participants.length ? visit.participants : [{ side: "ours" }], followUps: [] }}
        data-testid="record-form"
      >
        <Space>
          <Form.Item name="visitedAt" label={t("salesMarketing.visitedAt")}>
            <DatePicker showTime={{ format: "HH:mm" }} format="YYYY-MM-DD HH:mm" />
          </Form.Item>
          <Form.Item name="outcome" label={t("salesMarketing.outcome")}>
            <Select style={{ width: 160 }} options={OUTCOMES.map((o) => ({ value: o, label: t(`salesMarketing.outcomes.${o}`) }))} data-testid="record-outcome" />
          </Form.Item>
        </Space>
        <Form.Item name="minutes" label={t("salesMarketing.minutes")}>
          <Input.TextArea rows={4} maxLength={20000} data-testid="record-minutes" />
        </Form.Item>
        <ParticipantsField label={t("salesMarketing.participants")} />
        <Form.Item label={t("salesMarketing.followUps")}>
          <Form.List name="followUps">
            {(fields, { add, remove }, { errors }) => (
              <Space direction="vertical" style={{ width: "100%" }}>
                {fields.map((f) => (
                  <Space.Compact key={f.key} block>
                    <Form.Item name={[f.name, "title"]} noStyle>
                      <Input placeholder={t("salesMarketing.taskTitle")} style={{ width: "40%" }} data-testid="followup-title" />
                    </Form.Item>
                    <Form.Item name={[f.name, "dueDate"]} noStyle>
                      <DatePicker placeholder={t("salesMarketing.dueDate")} style={{ width: "25%" }} />
                    </Form.Item>
                    <Form.Item name={[f.name, "assignee"]} noStyle>
                      <Input placeholder={t("salesMarketing.assignee")} style={{ width: "25%" }} />
                    </Form.Item>
                    <Button onClick={() => remove(f.name)}>{t("salesMarketing.remove")}</Button>
                  </Space.Compact>
                ))}
                <Button size="small" onClick={() => add({})}>
                  {t("salesMarketing.addTask")}
                </Button>
                <Form.ErrorList errors={errors} />
              </Space>
            )}
          </Form.List>
        </Form.Item>
      </Form>
    </Modal>
  );
}
