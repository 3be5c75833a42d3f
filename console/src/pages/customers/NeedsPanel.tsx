import { EditOutlined, HistoryOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Descriptions, Drawer, Form, Input, Space, Table, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { formatTime } from "../../components/labels";
import { changeLines } from "./changes";
import { NEEDS_FIELDS, needsPatch, type AuditRecord, type NeedsField, type NeedsProfile } from "./f1";
import { useFetch } from "./useFetch";

const PATH = "/api/v1/customer/customers/{customer_id}/needs";

/** 需求档案: the profile's eight answers, edited as a merge patch; its versions in a drawer. */
export default function NeedsPanel({ customerId, canEdit, canHistory }: { customerId: string; canEdit: boolean; canHistory: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [editing, setEditing] = useState(false);
  const [showHistory, setShowHistory] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [form] = Form.useForm<Record<NeedsField, string | undefined>>();
  const profile = useFetch(async (signal) => (await api.get<NeedsProfile>(PATH, { path: { customer_id: customerId }, signal })).data, [customerId]);
  const history = useFetch(
    async (signal) =>
      showHistory && canHistory ? (await api.get<AuditRecord[]>(`${PATH}/history`, { path: { customer_id: customerId }, query: { limit: 100 }, signal })).data : [],
    [customerId, showHistory],
  );
  const p = profile.data;
  const label = (k: string) => t(`f1.needs.${k}`, { defaultValue: k });

  async function save(values: Record<NeedsField, string | undefined>) {
    const patch = needsPatch(p, values);
    if (!Object.keys(patch).length) {
      setEditing(false);
      return;
    }
    setBusy(true);
    setFormError(null);
    try {
      await api.patch<NeedsProfile>(PATH, { path: { customer_id: customerId }, body: patch });
      message.success(t("common.saved"));
      setEditing(false);
      profile.reload();
      history.reload();
    } catch (e) {
      setFormError(applyFieldErrors(form, e, NEEDS_FIELDS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card
      title={t("f1.needs.title")}
      size="small"
      data-testid="needs-panel"
      extra={
        <Space>
          {p && <Typography.Text type="secondary" data-testid="needs-version">{t("f1.versionBy", { version: p.version, who: p.updatedBy ?? "—", when: formatTime(p.updatedAt) })}</Typography.Text>}
          {canHistory && (
            <Button size="small" icon={<HistoryOutlined />} onClick={() => setShowHistory(true)} data-testid="needs-history">
              {t("customer.history")}
            </Button>
          )}
          {canEdit && !editing && (
            <Button
              size="small"
              icon={<EditOutlined />}
              onClick={() => {
                form.setFieldsValue(Object.fromEntries(NEEDS_FIELDS.map((k) => [k, p?.[k] ?? undefined])));
                setEditing(true);
              }}
              data-testid="needs-edit"
            >
              {t("common.edit")}
            </Button>
          )}
        </Space>
      }
    >
      {editing ? (
        <Form form={form} layout="vertical" onFinish={save}>
          {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} />}
          {NEEDS_FIELDS.map((k) => (
            <Form.Item key={k} name={k} label={label(k)} style={{ marginBottom: 8 }}>
              <Input.TextArea autoSize={{ minRows: 1, maxRows: 6 }} maxLength={4000} data-testid={`needs-${k}`} />
            </Form.Item>
          ))}
          <Space>
            <Button type="primary" htmlType="submit" loading={busy} data-testid="needs-save">
              {t("common.save")}
            </Button>
            <Button onClick={() => setEditing(false)}>{t("common.cancel")}</Button>
          </Space>
        </Form>
      ) : (
        <Descriptions size="small" column={2} bordered>
          {NEEDS_FIELDS.map((k) => (
            <Descriptions.Item key={k} label={label(k)}>
              <span style={{ whiteSpace: "pre-line" }} data-testid={`needs-value-${k}`}>
                {p?.[k] ?? "—"}
              </span>
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
      <Drawer open={showHistory} onClose={() => setShowHistory(false)} width={640} title={`${t("f1.needs.title")} · ${t("customer.history")}`}>
        <Table<AuditRecord>
          size="small"
          rowKey="id"
          dataSource={history.data ?? []}
          pagination={{ pageSize: 20 }}
          data-testid="needs-history-table"
          columns={[
            { title: t("customer.when"), width: 140, render: (_, h) => formatTime(h.at) },
            { title: t("customer.who"), dataIndex: "actor", width: 100 },
            {
              title: t("customer.change"),
              render: (_, h) => <Typography.Text style={{ whiteSpace: "pre-line" }}>{changeLines(h.changes as never, label).join("\n") || h.note || ""}</Typography.Text>,
            },
          ]}
        />
      </Drawer>
    </Card>
  );
}
