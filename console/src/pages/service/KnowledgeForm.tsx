import { Alert, App, Button, Card, Form, Input, Select, Space, Spin } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { nodeInfo } from "../../env";
import { ITEM_KINDS, type KnowledgeItem } from "./logic";

interface Values {
  kind: string;
  title: string;
  summary?: string;
  body: string;
  tags?: string[];
}

const FIELDS = new Set(["kind", "title", "summary", "body", "tags"]);

/** New item (group, province), contribution (a local network: its province reviews it) or a draft's edit. */
export default function KnowledgeForm() {
  const { id } = useParams();
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [item, setItem] = useState<KnowledgeItem | null>(null);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const local = nodeInfo()?.tier === "local";
  const editing = id !== undefined;

  useEffect(() => {
    if (!id) return;
    api
      .get<KnowledgeItem>("/api/v1/service/knowledge/item/{item_id}", { path: { item_id: id } })
      .then((r) => setItem(r.data))
      .catch((e: unknown) => setFormError(e instanceof Error ? e.message : String(e)));
  }, [id]);

  async function submit(v: Values) {
    setBusy(true);
    setFormError(null);
    const body = { kind: v.kind, title: v.title, summary: v.summary ?? "", body: v.body, tags: v.tags ?? [] };
    try {
      if (editing) {
        const { kind: _k, ...patch } = body;
        void _k;
        await api.patch(`/api/v1/service/knowledge/item/{item_id}`, { path: { item_id: id }, body: patch });
        message.success(t("common.saved"));
        navigate(`/service/knowledge/${id}`);
      } else if (local) {
        await api.post("/api/v1/service/knowledge/contribution", { body });
        message.success(t("service.contributed"));
        navigate("/service/knowledge");
      } else {
        const { data } = await api.post<KnowledgeItem>("/api/v1/service/knowledge/item", { body });
        message.success(t("common.created"));
        navigate(`/service/knowledge/${data.id}`);
      }
    } catch (e) {
      setFormError(applyFieldErrors(form, e, FIELDS));
    } finally {
      setBusy(false);
    }
  }

  if (editing && !item && !formError) return <Spin />;
  const req = (field: string) => [{ required: true, message: t("login.required", { field }) }];
  return (
    <Card title={editing ? t("service.editItem") : local ? t("service.contribute") : t("service.newItem")} data-testid="knowledge-form">
      {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} data-testid="form-error" />}
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        initialValues={item ? { kind: item.kind, title: item.title, summary: item.summary, body: item.body, tags: item.tags } : { kind: "FAQ" }}
      >
        <Form.Item name="kind" label={t("service.kind")} rules={req(t("service.kind"))}>
          <Select disabled={editing} options={ITEM_KINDS.map((k) => ({ value: k, label: t(`service.kindNames.${k}`) }))} style={{ maxWidth: 240 }} />
        </Form.Item>
        <Form.Item name="title" label={t("service.title")} rules={req(t("service.title"))}>
          <Input maxLength={200} data-testid="kfield-title" />
        </Form.Item>
        <Form.Item name="tags" label={t("service.tags")}>
          <Select mode="tags" tokenSeparators={[",", "，"]} />
        </Form.Item>
        <Form.Item name="summary" label={t("service.summary")}>
          <Input.TextArea rows={2} maxLength={2000} />
        </Form.Item>
        <Form.Item name="body" label={t("service.body")} rules={req(t("service.body"))}>
          <Input.TextArea rows={12} data-testid="kfield-body" />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="knowledge-save">
            {t("common.save")}
          </Button>
          <Button onClick={() => navigate(-1)}>{t("common.cancel")}</Button>
        </Space>
      </Form>
    </Card>
  );
}
