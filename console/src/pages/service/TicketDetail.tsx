import { Alert, App, AutoComplete, Button, Card, Descriptions, Form, Input, Modal, Radio, Rate, Select, Space, Spin, Table, Tag, Timeline, type ButtonProps } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError, applyFieldErrors } from "../../api/errors";
import type { OrgNode } from "../../api/types";
import type { components } from "../../api/gen/service";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { subtreeCodes } from "../../components/nodes";
import { nodeInfo } from "../../env";
import { assignBody, canWithdrawDispatch, customerOf, slaState, ticketActions, ticketCommands, type ReassignMode, type Ticket, type TicketStatus } from "./logic";
import { DeadlineCell, PriorityTag, StatusTag } from "./Sla";
import { useNow } from "./useNow";

type Audit = components["schemas"]["AuditRecordRead"];
type Queue = components["schemas"]["QueueRead"];
interface AssignValues {
  mode: ReassignMode;
  queueId?: string;
  handler?: string;
  reason?: string;
}
interface DispatchValues {
  toNode?: string;
  reason?: string;
}
const ITEM = "/tmf-api/troubleTicket/v4/troubleTicket/{ticket_id}";

export default function TicketDetail() {
  const { id = "" } = useParams();
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const now = useNow();
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [audit, setAudit] = useState<Audit[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [moveTo, setMoveTo] = useState<TicketStatus | null>(null);
  const [revisit, setRevisit] = useState(false);
  const [busy, setBusy] = useState(false);
  const [moveForm] = Form.useForm<{ reason?: string }>();
  const [revisitForm] = Form.useForm<{ satisfied: boolean; score: number; comment?: string }>();
  const [assignOpen, setAssignOpen] = useState(false);
  const [dispatchOpen, setDispatchOpen] = useState(false);
  const [queues, setQueues] = useState<Queue[]>([]);
  const [nodes, setNodes] = useState<OrgNode[]>([]);
  const [assignError, setAssignError] = useState<string | null>(null);
  const [dispatchError, setDispatchError] = useState<string | null>(null);
  const [assignForm] = Form.useForm<AssignValues>();
  const [dispatchForm] = Form.useForm<DispatchValues>();
  const assignMode = Form.useWatch("mode", assignForm);
  const tier = nodeInfo()?.tier;

  const load = useCallback(() => {
    api
      .get<Ticket>(ITEM, { path: { ticket_id: id } })
      .then((r) => setTicket(r.data))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    api
      .get<Audit[]>("/api/v1/service/troubleTicket/{ticket_id}/audit", { path: { ticket_id: id } })
      .then((r) => setAudit(r.data))
      .catch(() => setAudit([]));
  }, [id]);
  useEffect(load, [load]);
  useEffect(() => {
    api
      .get<Queue[]>("/api/v1/service/queue")
      .then((r) => setQueues(r.data.filter((q) => q.isActive !== false)))
      .catch(() => setQueues([]));
    if (tier && tier !== "local") {
      api
        .get<OrgNode[]>("/api/v1/org/nodes", { query: { limit: 1000 } })
        .then((r) => setNodes(r.data))
        .catch(() => setNodes([]));
    }
  }, [tier]);

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!ticket) return <Spin />;

  const here = nodeInfo()?.code ?? session?.claims.node;
  const canWrite = hasPermission(session?.claims, "service.ticket:write");
  const actions = ticketActions(ticket, here, canWrite);
  const below = here ? subtreeCodes(nodes, here).filter((c) => c !== here) : [];
  const commands = ticketCommands(ticket, here, canWrite, below.length > 0);
  const members = [...new Set(queues.flatMap((q) => q.members ?? []))];
  const sla = slaState(ticket, now);
  const customer = customerOf(ticket);

  const fail = (e: unknown) => message.error(e instanceof Error ? e.message : String(e));
  const move = async (v: { reason?: string }) => {
    if (!moveTo) return;
    setBusy(true);
    try {
      const { data } = await api.patch<Ticket>(ITEM, { path: { ticket_id: id }, body: { status: moveTo, statusChangeReason: v.reason || undefined } });
      setTicket(data);
      setMoveTo(null);
      moveForm.resetFields();
      message.success(t("service.moved"));
      load();
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const doRevisit = async (v: { satisfied: boolean; score: number; comment?: string }) => {
    setBusy(true);
    try {
      const { data } = await api.post<Ticket>("/api/v1/service/troubleTicket/{ticket_id}/revisit", {
        path: { ticket_id: id },
        body: { satisfied: v.satisfied, score: v.score, comment: v.comment || undefined },
      });
      setTicket(data);
      setRevisit(false);
      revisitForm.resetFields();
      message.success(v.satisfied ? t("service.closedOk") : t("service.reopened"));
      load();
    } catch (e) {
      if (e instanceof ApiError && Object.keys(e.fieldErrors()).length) {
        revisitForm.setFields(Object.entries(e.fieldErrors()).map(([name, m]) => ({ name: name as "score" | "comment", errors: [m] })));
      } else fail(e);
    } finally {
      setBusy(false);
    }
  };

  const doAssign = async (v: AssignValues) => {
    setBusy(true);
    setAssignError(null);
    try {
      const { data } = await api.post<Ticket>("/api/v1/service/troubleTicket/{ticket_id}/assign", { path: { ticket_id: id }, body: assignBody(v) });
      setTicket(data);
      setAssignOpen(false);
      assignForm.resetFields();
      message.success(t("service.reassigned", { handler: data.handler ?? "—" }));
      load();
    } catch (e) {
      const shown = v.mode === "handler" ? ["handler", "queueId", "reason"] : v.mode === "queue" ? ["queueId", "reason"] : ["reason"];
      setAssignError(applyFieldErrors(assignForm, e, shown));
    } finally {
      setBusy(false);
    }
  };
  const doDispatch = async (v: DispatchValues) => {
    setBusy(true);
    setDispatchError(null);
    try {
      const { data } = await api.post<Ticket>("/api/v1/service/troubleTicket/{ticket_id}/dispatch", {
        path: { ticket_id: id },
        body: { toNode: v.toNode || undefined, reason: v.reason || undefined },
      });
      setTicket(data);
      setDispatchOpen(false);
      dispatchForm.resetFields();
      message.success(t("service.dispatchedOk", { node: data.dispatch?.dispatchedTo ?? "" }));
      load();
    } catch (e) {
      setDispatchError(applyFieldErrors(dispatchForm, e, ["toNode", "reason"]));
    } finally {
      setBusy(false);
    }
  };

  const doWithdraw = async () => {
    setBusy(true);
    try {
      const { data } = await api.post<Ticket>("/api/v1/service/troubleTicket/{ticket_id}/dispatch/withdraw", { path: { ticket_id: id }, body: {} });
      setTicket(data);
      message.success(t("service.withdrawnOk"));
      load();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle" data-testid="ticket-detail">
      {ticket.ownerNode !== here && <Alert type="info" showIcon message={t("service.replica", { owner: ticket.ownerNode })} data-testid="ticket-replica" />}
      {ticket.dispatch?.dispatchedTo && (
        <Alert
          type="info"
          showIcon
          data-testid="ticket-dispatched"
          message={t("service.dispatched", { node: ticket.dispatch.dispatchedTo })}
          description={t("service.dispatchedSteps", { node: ticket.dispatch.dispatchedTo, id: ticket.dispatch.handlerTicketId ?? "—" })}
          action={
            canWithdrawDispatch(ticket, here, canWrite) && (
              <Button size="small" loading={busy} onClick={() => void doWithdraw()} data-testid="action-withdraw">
                {t("service.withdrawDispatch")}
              </Button>
            )
          }
        />
      )}
      {ticket.dispatch?.reportedAtNode && <Alert type="info" showIcon message={t("service.dispatchedFrom", { node: ticket.dispatch.reportedAtNode })} />}
      <Card
        title={
          <Space>
            {ticket.name}
            <StatusTag status={ticket.status} />
          </Space>
        }
        extra={
          <Space wrap data-testid="ticket-actions">
            {actions.length === 0 && commands.length === 0 && <span>{t("service.noActions")}</span>}
            {commands.includes("reassign") && (
              <Button onClick={() => setAssignOpen(true)} data-testid="action-reassign">
                {t("service.reassign")}
              </Button>
            )}
            {commands.includes("dispatch") && (
              <Button onClick={() => setDispatchOpen(true)} data-testid="action-dispatch">
                {t("service.dispatch")}
              </Button>
            )}
            {actions.map((a) =>
              a.kind === "revisit" ? (
                <Button key="revisit" type="primary" onClick={() => setRevisit(true)} data-testid="action-revisit">
                  {t("service.revisit")}
                </Button>
              ) : (
                <Button
                  key={a.to}
                  type={a.to === "inProgress" || a.to === "resolved" ? "primary" : "default"}
                  danger={a.to === "rejected" || a.to === "cancelled"}
                  onClick={() => setMoveTo(a.to)}
                  data-testid={`action-${a.to}`}
                >
                  {t(`service.moves.${a.to}`)}
                </Button>
              ),
            )}
          </Space>
        }
      >
        <Descriptions column={3} size="small" bordered>
          <Descriptions.Item label={t("service.customer")}>{customer?.name ?? customer?.id ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("service.customerGrade")}>{ticket.customerGrade}</Descriptions.Item>
          <Descriptions.Item label={t("service.ticketType")}>{t(`service.types.${ticket.ticketType ?? ""}`)}</Descriptions.Item>
          <Descriptions.Item label={t("service.channel")}>{t(`service.channels.${ticket.channel ?? ""}`)}</Descriptions.Item>
          <Descriptions.Item label={t("service.priority")}>
            <PriorityTag priority={ticket.priority} />
          </Descriptions.Item>
          <Descriptions.Item label={t("service.affectedService")}>{ticket.affectedService ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("service.handler")}>
            <span data-testid="ticket-handler">{ticket.handler ?? "—"}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t("service.queue")}>{ticket.assignment?.queueName ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("service.assignedBy")}>{ticket.assignment?.assignedBy ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("service.ownerNode")}>
            <Tag>{ticket.ownerNode}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label={t("service.externalId")}>{ticket.externalId ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("service.creationDate")}>{formatTime(ticket.creationDate)}</Descriptions.Item>
          <Descriptions.Item label={t("service.resolutionDate")}>{formatTime(ticket.resolutionDate)}</Descriptions.Item>
          <Descriptions.Item label={t("service.closedDate")}>{formatTime(ticket.closedDate)}</Descriptions.Item>
          <Descriptions.Item label={t("service.reopenCount")}>{ticket.reopenCount ?? 0}</Descriptions.Item>
          <Descriptions.Item label={t("service.survey")} span={2}>
            {ticket.satisfaction ? (
              <Space data-testid="ticket-survey">
                <Rate disabled value={ticket.satisfaction.score} />
                {ticket.satisfaction.comment}
              </Space>
            ) : (
              "—"
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t("service.description")} span={3}>
            <div style={{ whiteSpace: "pre-wrap" }}>{ticket.description || "—"}</div>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Card title={t("service.sla")} size="small" data-testid="ticket-sla">
        {ticket.sla ? (
          <>
            <Descriptions column={2} size="small">
              <Descriptions.Item label={t("service.responseDue")}>
                <DeadlineCell d={sla.response} testId="detail-sla-response" />
              </Descriptions.Item>
              <Descriptions.Item label={t("service.resolveDue")}>
                <DeadlineCell d={sla.resolve} testId="detail-sla-resolve" />
              </Descriptions.Item>
              <Descriptions.Item label={t("service.rule")}>
                {ticket.sla.ruleId.slice(0, 8)} v{ticket.sla.ruleVersion} · {ticket.sla.responseMinutes} / {ticket.sla.resolveMinutes} min
              </Descriptions.Item>
              <Descriptions.Item label={t("service.calendar")}>{ticket.sla.calendar}</Descriptions.Item>
              <Descriptions.Item label={t("service.pausedMinutes")}>{ticket.sla.pausedMinutes}</Descriptions.Item>
              <Descriptions.Item label={t("service.escalationLevel")}>{ticket.sla.escalationLevel}</Descriptions.Item>
            </Descriptions>
            <Table
              size="small"
              rowKey="step"
              pagination={false}
              title={() => t("service.escalation")}
              dataSource={ticket.sla.escalation}
              columns={[
                { title: t("service.step"), dataIndex: "step", width: 70 },
                { title: t("service.to"), dataIndex: "to" },
                { title: t("service.dueAt"), render: (_, s) => formatTime(s.dueAt) },
                { title: t("service.firedAt"), render: (_, s) => (s.firedAt ? <Tag color="red">{formatTime(s.firedAt)}</Tag> : "—") },
              ]}
            />
          </>
        ) : (
          t("service.noSla")
        )}
      </Card>
      <Card title={t("service.history")} size="small" data-testid="ticket-history">
        <Timeline
          items={(ticket.statusChange ?? []).map((s) => ({
            color: s.status === "closed" ? "green" : s.status === "resolved" ? "blue" : "gray",
            children: (
              <Space wrap>
                <StatusTag status={s.status} />
                <span>{formatTime(s.changeDate)}</span>
                <span>{s.actor}</span>
                {s.node && <Tag>{s.node}</Tag>}
                {s.changeReason && <span>· {s.changeReason}</span>}
              </Space>
            ),
          }))}
        />
      </Card>
      <Card title={t("service.audit")} size="small">
        <Table<Audit>
          size="small"
          rowKey="id"
          dataSource={audit}
          pagination={{ pageSize: 10 }}
          columns={[
            { title: t("customer.when"), render: (_, a) => formatTime(a.at), width: 160 },
            { title: t("service.actor"), dataIndex: "actor", width: 160 },
            { title: t("customer.action"), dataIndex: "action", width: 120 },
            { title: t("service.reason"), render: (_, a) => a.note ?? "—" },
          ]}
        />
      </Card>
      <Modal
        open={moveTo !== null}
        title={moveTo ? t("service.moveTo", { status: t(`service.statuses.${moveTo}`) }) : ""}
        onCancel={() => setMoveTo(null)}
        onOk={() => moveForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "move-ok" } as ButtonProps}
      >
        <Form form={moveForm} layout="vertical" onFinish={move}>
          <Form.Item name="reason" label={t("service.reason")}>
            <Input.TextArea rows={3} maxLength={1000} data-testid="move-reason" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={revisit}
        title={t("service.revisit")}
        onCancel={() => setRevisit(false)}
        onOk={() => revisitForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "revisit-ok" } as ButtonProps}
      >
        <Form form={revisitForm} layout="vertical" onFinish={doRevisit} initialValues={{ satisfied: true, score: 5 }}>
          <Form.Item name="satisfied" label={t("service.satisfied")}>
            <Radio.Group data-testid="revisit-satisfied">
              <Radio value={true}>{t("service.satisfiedYes")}</Radio>
              <Radio value={false}>{t("service.satisfiedNo")}</Radio>
            </Radio.Group>
          </Form.Item>
          <Form.Item name="score" label={t("service.score")} rules={[{ required: true, message: t("login.required", { field: t("service.score") }) }]}>
            <Rate data-testid="revisit-score" />
          </Form.Item>
          <Form.Item name="comment" label={t("service.comment")}>
            <Input.TextArea rows={3} maxLength={1000} data-testid="revisit-comment" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={assignOpen}
        title={t("service.reassign")}
        onCancel={() => setAssignOpen(false)}
        onOk={() => assignForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "assign-ok" } as ButtonProps}
      >
        {assignError && <Alert type="error" showIcon message={assignError} style={{ marginBottom: 12 }} data-testid="assign-error" />}
        <Form form={assignForm} layout="vertical" onFinish={doAssign} initialValues={{ mode: "handler" }}>
          <Form.Item name="mode" label={t("service.assignTo")}>
            <Radio.Group data-testid="assign-mode">
              <Radio value="handler">{t("service.assignModes.handler")}</Radio>
              <Radio value="queue">{t("service.assignModes.queue")}</Radio>
              <Radio value="rule">{t("service.assignModes.rule")}</Radio>
            </Radio.Group>
          </Form.Item>
          {assignMode === "handler" && (
            <Form.Item name="handler" label={t("service.handler")} rules={[{ required: true, whitespace: true, message: t("login.required", { field: t("service.handler") }) }]}>
              <AutoComplete options={members.map((m) => ({ value: m }))} filterOption={(input, o) => String(o?.value ?? "").includes(input)} maxLength={64}>
                <Input data-testid="assign-handler" />
              </AutoComplete>
            </Form.Item>
          )}
          {assignMode !== "rule" && (
            <Form.Item
              name="queueId"
              label={t("service.queueTeam")}
              rules={assignMode === "queue" ? [{ required: true, message: t("login.required", { field: t("service.queue") }) }] : []}
            >
              <Select
                allowClear
                data-testid="assign-queue"
                options={queues.map((q) => ({ value: q.id, label: `${q.name} · ${q.team} · ${t(`service.strategies.${q.strategy ?? ""}`, { defaultValue: q.strategy ?? "" })}` }))}
                notFoundContent={t("service.noQueues")}
              />
            </Form.Item>
          )}
          {assignMode === "rule" && <Alert type="info" message={t("service.assignRuleHint")} style={{ marginBottom: 12 }} />}
          <Form.Item name="reason" label={t("service.reason")}>
            <Input.TextArea rows={2} maxLength={1000} data-testid="assign-reason" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={dispatchOpen}
        title={t("service.dispatch")}
        onCancel={() => setDispatchOpen(false)}
        onOk={() => dispatchForm.submit()}
        confirmLoading={busy}
        okButtonProps={{ "data-testid": "dispatch-ok" } as ButtonProps}
      >
        {dispatchError && <Alert type="error" showIcon message={dispatchError} style={{ marginBottom: 12 }} data-testid="dispatch-error" />}
        <Form form={dispatchForm} layout="vertical" onFinish={doDispatch} initialValues={{ toNode: "" }}>
          <Form.Item name="toNode" label={t("service.toNode")} extra={t("service.dispatchHint")}>
            <Select
              data-testid="dispatch-node"
              options={[
                { value: "", label: t("service.customerOwnerNode") },
                ...below.map((c) => {
                  const n = nodes.find((x) => x.code === c);
                  const name = i18n.language.startsWith("zh") ? n?.nameZh : n?.nameEn;
                  return { value: c, label: name ? `${name} (${c})` : c };
                }),
              ]}
            />
          </Form.Item>
          <Form.Item name="reason" label={t("service.reason")}>
            <Input.TextArea rows={2} maxLength={1000} data-testid="dispatch-reason" />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
