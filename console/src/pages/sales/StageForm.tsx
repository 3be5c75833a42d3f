// Moves a deal to another stage (PATCH {stage}, with closeReason for won/lost): on the kanban's cards and
// on the detail page. The server decides which moves are allowed; its 409/422 message is shown.
import { App, Button, Form, Input, Select, Space } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { applyFieldErrors } from "../../api/errors";
import { needsReason, STAGES, stagePatch, type Opportunity } from "./logic";

export const OPPORTUNITY = "/api/v1/sales/opportunities/{opportunity_id}";

export function StageForm({ opportunity, onMoved, compact = false }: { opportunity: Opportunity; onMoved: (o: Opportunity) => void; compact?: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ stage?: string; closeReason?: string }>();
  const stage = Form.useWatch("stage", form);
  const [saving, setSaving] = useState(false);
  const options = STAGES.filter((s) => s !== opportunity.stage).map((s) => ({ value: s, label: t(`salesPipeline.stages.${s}`) }));

  const submit = async (v: { stage?: string; closeReason?: string }) => {
    if (!v.stage) return;
    setSaving(true);
    try {
      const r = await api.patch<Opportunity>(OPPORTUNITY, { path: { opportunity_id: opportunity.id }, body: stagePatch(v.stage, v.closeReason) });
      message.success(t("salesPipeline.moved", { stage: t(`salesPipeline.stages.${r.data.stage}`) }));
      form.resetFields();
      onMoved(r.data);
    } catch (e) {
      // the stage Select has no error slot (noStyle): an error naming it is shown as a message
      const left = applyFieldErrors(form, e, ["closeReason"]);
      if (left) message.error(left);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Form form={form} layout={compact ? "vertical" : "inline"} onFinish={(v) => void submit(v)} size={compact ? "small" : "middle"} data-testid="stage-form">
      <Space.Compact style={{ width: compact ? "100%" : undefined }}>
        <Form.Item name="stage" noStyle>
          <Select placeholder={t("salesPipeline.moveTo")} options={options} style={{ minWidth: compact ? 120 : 160, flex: 1 }} data-testid="stage-select" />
        </Form.Item>
        <Button htmlType="submit" type="primary" loading={saving} disabled={!stage} data-testid="stage-move">
          {t("salesPipeline.move")}
        </Button>
      </Space.Compact>
      {needsReason(stage) && (
        <Form.Item name="closeReason" label={compact ? undefined : t("salesPipeline.closeReason")} style={{ marginTop: compact ? 8 : 0 }}>
          <Input placeholder={t("salesPipeline.reasonRequired")} maxLength={2000} data-testid="stage-reason" />
        </Form.Item>
      )}
    </Form>
  );
}
