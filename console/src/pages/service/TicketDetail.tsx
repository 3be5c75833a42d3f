import { Alert, App, Button, Card, Descriptions, Form, Input, Modal, Radio, Rate, Space, Spin, Table, Tag, Timeline, type ButtonProps } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { components } from "../../api/gen/service";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { customerOf, slaState, ticketActions, type Ticket, type TicketStatus } from "./logic";
import { DeadlineCell, PriorityTag, StatusTag } from "./Sla";
import { useNow } from "./useNow";

type Audit = components["schemas"]["AuditRecordRead"];
const ITEM = "/tmf-api/troubleTicket/v4/troubleTicket/{ticket_id}";

export default function TicketDetail() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
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

  if (error) return <Alert type="error" showIcon message={error} />;
  if (!ticket) return <Spin />;

  const here = nodeInfo()?.code ?? session?.claims.node;
  const actions = ticketActions(ticket, here, hasPermission(session?.claims, "service.ticket:write"));
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

  return (
    <Space direction="vertical" style={{ width: "100%" }} size="middle" data-testid="ticket-detail">
      {ticket.ownerNode !== here && <Alert type="info" showIcon message={t("service.replica", { owner: ticket.ownerNode })} data-testid="ticket-replica" />}
      {ticket.dispatch?.dispatchedTo && <Alert type="info" showIcon message={t("service.dispatched", { node: ticket.dispatch.dispatchedTo })} />}
      <Card
        title={
          <Space>
            {ticket.name}
            <StatusTag status={ticket.status} />
          </Space>
        }
        extra={
          <Space wrap data-testid="ticket-actions">
            {actions.length === 0 && <span>{t("service.noActions")}</span>}
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
          <Descriptions.Item label={t("service.handler")}>{ticket.handler ?? "—"}</Descriptions.Item>
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
    </Space>
  );
}
