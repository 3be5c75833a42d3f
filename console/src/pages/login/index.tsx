import { LockOutlined, UserOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Form, Input, Space, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { api } from "../../api/client";
import { ApiError } from "../../api/errors";
import type { TokenResponse } from "../../api/types";
import { signIn } from "../../auth/session";
import LangSwitch from "../../components/LangSwitch";
import NodeBadge from "../../components/NodeBadge";
import { storedLang } from "../../i18n";
import { useLang } from "../../lang";

/** Where to go after login: only a path of this console (never another origin). */
export function safeReturnPath(from: string | null): string {
  if (!from || !from.startsWith("/") || from.startsWith("//") || from.startsWith("/login")) return "/workbench";
  return from;
}

export default function LoginPage() {
  const { t } = useTranslation();
  const { setLang } = useLang();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(values: { username: string; password: string }) {
    setBusy(true);
    setError(null);
    try {
      const { data } = await api.post<TokenResponse>("/api/v1/auth/token", {
        form: { grant_type: "password", username: values.username, password: values.password },
        noAuthRedirect: true,
      });
      const session = signIn(data.access_token);
      setLang(storedLang(session.claims.sub));
      navigate(session.claims.must_change_password ? "/password" : safeReturnPath(params.get("from")), { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        const seconds = (e.body?.details as { retryAfter?: number } | undefined)?.retryAfter ?? 60;
        setError(t("login.throttled", { seconds }));
      } else if (e instanceof ApiError && e.status === 401) {
        setError(t("login.failed"));
      } else {
        setError(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div style={{ minHeight: "100vh", display: "flex", alignItems: "center", justifyContent: "center", background: "#eef2f8" }}>
      <Card style={{ width: 380 }}>
        <Space direction="vertical" style={{ width: "100%" }} size="middle">
          <div style={{ display: "flex", justifyContent: "space-between", alignItems: "center" }}>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {t("app.title")}
            </Typography.Title>
            <LangSwitch />
          </div>
          <NodeBadge />
          {error && <Alert type="error" message={error} showIcon data-testid="login-error" />}
          <Form layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item name="username" label={t("login.username")} rules={[{ required: true, message: t("login.required", { field: t("login.username") }) }]}>
              <Input prefix={<UserOutlined />} autoComplete="username" />
            </Form.Item>
            <Form.Item name="password" label={t("login.password")} rules={[{ required: true, message: t("login.required", { field: t("login.password") }) }]}>
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t("login.submit")}
            </Button>
          </Form>
        </Space>
      </Card>
    </div>
  );
}
