import { CheckCircleOutlined, RollbackOutlined } from "@ant-design/icons";
import { Alert, App, Button, Form, Input, Modal, Space, Tag, Tooltip } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { Claims } from "../../auth/session";
import { enumLabel, formatTime } from "../../components/labels";
import { canVerify, type Verification } from "./f1";
import { useFetch } from "./useFetch";

const PATH = "/api/v1/customer/customers/{customer_id}/verification";
export const VERIFICATION_COLORS: Record<string, string> = { verified: "green", returned: "red", unverified: "orange", notRequired: "default" };

/** 省级核实: the state as a badge; verify / return (with its reason) offered only at the verifying province with the permission. */
export default function VerificationPanel({ customerId, claims, here }: { customerId: string; claims: Claims | undefined; here: string | undefined }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [returning, setReturning] = useState(false);
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [form] = Form.useForm<{ reason?: string }>();
  const state = useFetch(async (signal) => (await api.get<Verification>(PATH, { path: { customer_id: customerId }, signal })).data, [customerId]);
  const v = state.data;
  if (!v) return null;

  async function judge(status: "verified" | "returned", reason?: string) {
    setBusy(true);
    setFormError(null);
    try {
      await api.put(PATH, { path: { customer_id: customerId }, body: { status, reason: reason?.trim() || null } });
      message.success(t("common.saved"));
      setReturning(false);
      state.reload();
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors().reason) form.setFields([{ name: "reason", errors: [e.fieldErrors().reason ?? ""] }]);
      else setFormError(e instanceof Error ? e.message : String(e));
      if (status === "verified") message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  const tip = v.verifiedBy ? t("f1.verification.by", { who: v.verifiedBy, node: v.verifierNode ?? "—", when: formatTime(v.updatedAt), version: v.customerVersion ?? "—" }) : v.verifierNode ? t("f1.verification.verifier", { node: v.verifierNode }) : undefined;
  return (
    <Space data-testid="verification">
      <Tooltip title={tip}>
        <Tag color={VERIFICATION_COLORS[v.status]} data-testid="verification-badge">
          {enumLabel(t, "verification", v.status)}
        </Tag>
      </Tooltip>
      {v.status === "returned" && v.reason && <span data-testid="verification-reason">{t("f1.verification.reasonShown", { reason: v.reason })}</span>}
      {canVerify(claims, here, v) && (
        <>
          {v.status !== "verified" && (
            <Button size="small" type="primary" icon={<CheckCircleOutlined />} loading={busy} onClick={() => void judge("verified")} data-testid="verify">
              {t("f1.verification.verify")}
            </Button>
          )}
          <Button
            size="small"
            danger
            icon={<RollbackOutlined />}
            onClick={() => {
              form.resetFields();
              setFormError(null);
              setReturning(true);
            }}
            data-testid="verification-return"
          >
            {t("f1.verification.return")}
          </Button>
        </>
      )}
      <Modal open={returning} title={t("f1.verification.return")} onCancel={() => setReturning(false)} onOk={() => form.submit()} okButtonProps={{ loading: busy }} forceRender>
        {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" onFinish={(x) => void judge("returned", x.reason)}>
          <Form.Item name="reason" label={t("f1.verification.reason")} rules={[{ required: true, message: t("login.required", { field: t("f1.verification.reason") }) }]}>
            <Input.TextArea maxLength={500} autoSize={{ minRows: 2, maxRows: 5 }} data-testid="verification-reason-input" />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
