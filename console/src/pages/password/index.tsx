import { Alert, App, Button, Card, Form, Input } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import { currentSession, signOut } from "../../auth/session";

/** Change one's own password (forced at the first login of a bootstrap administrator). */
export default function PasswordPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm();
  const session = currentSession();

  async function submit(v: { current: string; next: string }) {
    try {
      await api.post("/api/v1/auth/password", {
        form: { username: session?.claims.sub ?? "", current_password: v.current, new_password: v.next },
        noAuthRedirect: true,
      });
      message.success(t("password.changed"));
      signOut();
      navigate("/login", { replace: true });
    } catch (e) {
      const msg = e instanceof ApiError ? e.message : String(e);
      form.setFields([{ name: e instanceof ApiError && e.status === 401 ? "current" : "next", errors: [msg] }]);
    }
  }

  return (
    <div style={{ minHeight: "100vh", display: "flex", alignItems: "center", justifyContent: "center", background: "#eef2f8" }}>
      <Card title={t("password.title")} style={{ width: 400 }}>
        {session?.claims.must_change_password && <Alert type="warning" showIcon message={t("password.mustChange")} style={{ marginBottom: 16 }} />}
        <Form form={form} layout="vertical" onFinish={submit}>
          <Form.Item name="current" label={t("password.current")} rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Form.Item name="next" label={t("password.next")} rules={[{ required: true, min: 8 }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            name="confirm"
            label={t("password.confirm")}
            dependencies={["next"]}
            rules={[
              { required: true },
              ({ getFieldValue }) => ({
                validator: (_, value) =>
                  !value || getFieldValue("next") === value ? Promise.resolve() : Promise.reject(new Error(t("password.mismatch"))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block>
            {t("common.submit")}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
