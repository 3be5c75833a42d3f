import { App, Button, Card, DatePicker, Form, Input, Modal, Select, Space, Table, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { tablePagination, usePagedList } from "../../api/useTmfList";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import type { RuleKind, RuleSet } from "../../api/types";
import { hasPermission } from "../../auth/session";
import { useSession } from "../../auth/useSession";
import { formatTime } from "../../components/labels";
import { nodeInfo } from "../../env";

const KINDS: RuleKind[] = ["recognition", "value_scoring", "churn_warning", "sla", "reminder", "opportunity_probability", "assignment", "settlement_split"];
const STATUS_COLOR: Record<string, string> = { DRAFT: "default", APPROVED: "blue", PUBLISHED: "green", RETIRED: "red" };
type Step = "approve" | "publish" | "retire";

/** The steps a rule set may take next (the service's DRAFT → APPROVED → PUBLISHED, retire before RETIRED). */
export function nextSteps(status: string): Step[] {
  if (status === "DRAFT") return ["approve", "retire"];
  if (status === "APPROVED") return ["publish", "retire"];
  if (status === "PUBLISHED") return ["retire"];
  return [];
}

/** Rules as data (规则管理): drafts, approval by another person, publication into the subtree. */
export default function RulesPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const session = useSession();
  const list = usePagedList<RuleSet>("/api/v1/rules/ruleSet");
  const [open, setOpen] = useState(false);
  const [form] = Form.useForm();
  const claims = session?.claims;
  const here = nodeInfo()?.code;
  const may = (step: Step) => hasPermission(claims, step === "approve" ? "rules:approve" : "rules:write");

  const act = async (r: RuleSet, step: Step) => {
    try {
      const path = `/api/v1/rules/ruleSet/{rule_set_id}/${step}` as const;
      await api.post(path, { path: { rule_set_id: r.id }, body: {} });
      message.success(t("common.saved"));
      list.reload();
    } catch (e) {
      message.error(e instanceof Error ? e.message : String(e));
    }
  };

  const create = async (v: { kind: RuleKind; name: string; parameters: string; startDate: dayjs.Dayjs; note?: string }) => {
    let parameters: unknown;
    try {
      parameters = JSON.parse(v.parameters || "{}");
    } catch {
      form.setFields([{ name: "parameters", errors: [t("rules.badJson")] }]);
      return;
    }
    try {
      await api.post("/api/v1/rules/ruleSet", {
        body: { kind: v.kind, name: v.name, note: v.note || null, parameters, validFor: { startDate: v.startDate.format("YYYY-MM-DD") } },
      });
      setOpen(false);
      form.resetFields();
      list.reload();
    } catch (e) {
      const left = applyFieldErrors(form, e, null, (name) => (name === "validFor" ? "startDate" : name));
      if (left) message.error(left);
    }
  };

  return (
    <Card
      title={t("admin.rules")}
      data-testid="admin-rules"
      extra={hasPermission(claims, "rules:write") && nodeInfo()?.tier !== "local" && <Button type="primary" onClick={() => setOpen(true)}>{t("rules.draft")}</Button>}
    >
      <Table<RuleSet>
        rowKey="id"
        loading={list.loading}
        dataSource={list.rows}
        pagination={tablePagination(list, t)}
        expandable={{ expandedRowRender: (r) => <Typography.Text code style={{ whiteSpace: "pre-wrap" }}>{JSON.stringify(r.parameters, null, 2)}</Typography.Text> }}
        columns={[
          { title: t("rules.kind"), render: (_, r) => t(`rules.kinds.${r.kind}`, { defaultValue: r.kind }) },
          { title: t("common.name"), dataIndex: "name" },
          { title: t("rules.scope"), dataIndex: "scopeNode" },
          { title: t("common.status"), render: (_, r) => <Tag color={STATUS_COLOR[r.status] ?? "default"}>{t(`rules.status.${r.status}`, { defaultValue: r.status })}</Tag> },
          { title: t("common.version"), dataIndex: "version" },
          { title: t("rules.validFrom"), render: (_, r) => r.validFor?.startDate ?? "—" },
          { title: t("rules.author"), dataIndex: "author" },
          { title: t("common.updatedAt"), render: (_, r) => formatTime(r.updatedAt) },
          {
            title: t("common.actions"),
            render: (_, r) => (
              <Space>
                {r.ownerNode === here &&
                  nextSteps(r.status)
                    .filter(may)
                    .map((step) => (
                      <Button key={step} size="small" danger={step === "retire"} onClick={() => act(r, step)}>
                        {t(`rules.${step}`)}
                      </Button>
                    ))}
              </Space>
            ),
          },
        ]}
      />
      <Modal open={open} title={t("rules.draft")} onCancel={() => setOpen(false)} onOk={() => form.submit()} width={640}>
        <Form form={form} layout="vertical" onFinish={create} initialValues={{ kind: "recognition", startDate: dayjs(), parameters: "{}" }}>
          <Form.Item name="kind" label={t("rules.kind")} rules={[{ required: true }]}>
            <Select options={KINDS.map((k) => ({ value: k, label: t(`rules.kinds.${k}`) }))} />
          </Form.Item>
          <Form.Item name="name" label={t("common.name")} rules={[{ required: true }]}>
            <Input />
          </Form.Item>
          <Form.Item name="startDate" label={t("rules.validFrom")} rules={[{ required: true }]}>
            <DatePicker />
          </Form.Item>
          <Form.Item name="parameters" label={t("rules.parameters")}>
            <Input.TextArea rows={6} style={{ fontFamily: "monospace" }} />
          </Form.Item>
          <Form.Item name="note" label={t("national.note")}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
