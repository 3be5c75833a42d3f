// 跨节点合并提议 (issue 14): merges across owner nodes, proposed by a common ancestor; each owner node
// answers its own side here, the proposer may withdraw (docs/customer-f1.md, "Across nodes").
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";
import { proposalActions, type MergeProposal, type ProposalSide } from "./f1";

const LIST = "/api/v1/customer/mergeProposals";
const RESPONSE = "/api/v1/customer/mergeProposals/{proposal_id}/response";
const WITHDRAW = "/api/v1/customer/mergeProposals/{proposal_id}/withdraw";
const STATE_COLOR: Record<string, string> = { PENDING: "blue", REJECTED: "red", MERGED: "green", WITHDRAWN: "default", ACCEPTED: "green" };

export default function MergeProposals() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const here = nodeInfo()?.code;
  // the proposer's record is PROPOSED or WITHDRAWN; where it stands (pending, merged, rejected) comes from the answers
  const [status, setStatus] = useState<string | undefined>("PROPOSED");
  const list = usePagedList<MergeProposal>(LIST, { status, sort: "-createdAt" });
  const [rejecting, setRejecting] = useState<MergeProposal | null>(null);
  const [form] = Form.useForm<{ reason: string }>();
  const [formError, setFormError] = useState<string | null>(null);
  const stateTag = (s: string) => <Tag color={STATE_COLOR[s]}>{t(`f1.proposal.states.${s}`, { defaultValue: s })}</Tag>;

  const answer = async (p: MergeProposal, status: "ACCEPTED" | "REJECTED", reason?: string) => {
    try {
      await api.put(RESPONSE, { path: { proposal_id: p.id }, body: { status, reason: reason ?? null } });
      message.success(t("f1.proposal.answered"));
      setRejecting(null);
      list.reload();
    } catch (e) {
      if (status === "REJECTED") setFormError(applyFieldErrors(form, e, ["reason"]));
      else message.error(e instanceof Error ? e.message : String(e));
    }
  };
  const withdraw = async (p: MergeProposal) => {
    try {
      await api.post(WITHDRAW, { path: { proposal_id: p.id }, body: { reason: null } });
      message.success(t("f1.proposal.withdrawn"));
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };
  const side = (s: ProposalSide) => (
    <div key={s.node} data-testid={`side-${s.node}`}>
      <Tag>{s.node}</Tag>
      {stateTag(s.status)}
      {s.holdsSurvivor && <Typography.Text type="secondary">{t("f1.proposal.survivor")}</Typography.Text>}
      {s.reason && <Typography.Text type="secondary"> · {s.reason}</Typography.Text>}
    </div>
  );

  return (
    <Card title={t("f1.proposal.title")} data-testid="merge-proposals" extra={<Link to="/customers/duplicates">{t("f1.dup.title")}</Link>}>
      <Typography.Paragraph type="secondary">{t("f1.proposal.hint")}</Typography.Paragraph>
      <Select
        allowClear
        value={status}
        onChange={(v: string | undefined) => setStatus(v)}
        placeholder={t("f1.proposal.state")}
        style={{ width: 160, marginBottom: 12 }}
        options={["PROPOSED", "WITHDRAWN"].map((s) => ({ value: s, label: t(`f1.proposal.states.${s}`) }))}
      />
      <Table<MergeProposal>
        rowKey="id"
        size="small"
        loading={list.loading}
        dataSource={list.rows}
        pagination={tablePagination(list, t)}
        columns={[
          { key: "survivor", title: t("f1.proposal.survivor"), render: (_, p) => <Link to={`/customers/${p.survivorId}`}>{p.survivorId.slice(0, 8)}</Link> },
          { key: "victims", title: t("f1.proposal.victims"), render: (_, p) => p.victimIds.map((v) => <Link key={v} to={`/customers/${v}`} style={{ marginRight: 8 }}>{v.slice(0, 8)}</Link>) },
          { key: "state", title: t("f1.proposal.state"), render: (_, p) => stateTag(p.state) },
          { key: "sides", title: t("f1.proposal.sides"), render: (_, p) => <Space direction="vertical" size={0}>{p.sides.map(side)}</Space> },
          { key: "proposedBy", title: t("f1.proposal.proposedBy"), render: (_, p) => `${p.proposedBy} · ${p.ownerNode}` },
          { key: "createdAt", title: t("common.createdAt"), render: (_, p) => formatTime(p.createdAt) },
          {
            key: "actions",
            title: t("common.actions"),
            render: (_, p) => {
              const may = proposalActions(session?.claims, here, p);
              return (
                <Space>
                  {may.answer && (
                    <Button size="small" type="primary" onClick={() => void answer(p, "ACCEPTED")} data-testid="proposal-accept">
                      {t("f1.proposal.accept")}
                    </Button>
                  )}
                  {may.answer && (
                    <Button size="small" danger onClick={() => { form.resetFields(); setFormError(null); setRejecting(p); }} data-testid="proposal-reject">
                      {t("f1.proposal.reject")}
                    </Button>
                  )}
                  {may.withdraw && (
                    <Button size="small" onClick={() => void withdraw(p)} data-testid="proposal-withdraw">
                      {t("f1.proposal.withdraw")}
                    </Button>
                  )}
                </Space>
              );
            },
          },
        ]}
      />
      <Modal open={rejecting !== null} title={t("f1.proposal.reject")} onCancel={() => setRejecting(null)} onOk={() => form.submit()} okButtonProps={{ danger: true }}>
        {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" onFinish={(v) => rejecting && void answer(rejecting, "REJECTED", v.reason)}>
          <Form.Item name="reason" label={t("f1.proposal.rejectReason")} rules={[{ required: true, message: t("login.required", { field: t("f1.proposal.rejectReason") }) }]}>
            <Input.TextArea rows={3} maxLength={500} data-testid="proposal-reject-reason" />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
