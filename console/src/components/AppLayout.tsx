import { LogoutOutlined, UserOutlined } from "@ant-design/icons";
import { Button, Layout, Menu, Space, Tag, Typography, type MenuProps } from "antd";
import { useTranslation } from "react-i18next";
import { Outlet, useLocation, useNavigate } from "react-router";
import { signOut } from "../auth/session";
import { useSession } from "../auth/useSession";
import { visibleScreens } from "../modules";
import LangSwitch from "./LangSwitch";
import NodeBadge from "./NodeBadge";
import NotificationBell from "./NotificationBell";

export default function AppLayout() {
  const { t } = useTranslation();
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const screens = visibleScreens(session?.claims ?? null);
  const items: MenuProps["items"] = screens.map((s) =>
    s.children
      ? {
          key: s.key,
          icon: s.icon,
          label: t(`menu.${s.key}`),
          children: s.children.map((c) => ({ key: "/" + c.path, label: t(`menu.${c.key}`) })),
        }
      : { key: "/" + s.path.replace("/*", ""), icon: s.icon, label: t(`menu.${s.key}`) },
  );
  const first = "/" + (location.pathname.split("/")[1] ?? "");
  // a screen with a sub-menu (admin, service) selects its sub-entry: the first two segments
  const nested = screens.some((s) => s.children && first === "/" + s.path.replace("/*", ""));
  const selected = nested ? location.pathname.split("/").slice(0, 3).join("/") : first;
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Layout.Sider width={212} theme="light" breakpoint="lg" collapsedWidth={0}>
        <div style={{ padding: "16px 20px", fontWeight: 600, fontSize: 16 }}>{t("app.title")}</div>
        <Menu
          mode="inline"
          items={items}
          selectedKeys={[selected]}
          defaultOpenKeys={["admin", first.slice(1)]}
          onClick={(e) => navigate(e.key)}
          data-testid="main-menu"
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header
          style={{ background: "#fff", display: "flex", justifyContent: "space-between", alignItems: "center", paddingInline: 20 }}
        >
          <NodeBadge />
          <Space size="middle">
            <span data-testid="user-scope">
              <UserOutlined /> {session?.claims.name ?? session?.claims.sub}{" "}
              <Typography.Text type="secondary">
                {t("common.scope")}: <Tag>{session?.claims.scope_node}</Tag>
              </Typography.Text>
            </span>
            <NotificationBell />
            <LangSwitch />
            <Button
              icon={<LogoutOutlined />}
              size="small"
              onClick={() => {
                signOut();
                navigate("/login");
              }}
            >
              {t("common.logout")}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ padding: 20 }}>
          <Outlet />
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
