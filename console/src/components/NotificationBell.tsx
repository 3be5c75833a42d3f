// The header's bell (消息中心): the unread count over the user's inboxes, a dropdown of the latest, and
// the way to the /notifications page. Polls every minute and reloads when read state changes.
import { BellOutlined } from "@ant-design/icons";
import { Badge, Button, Dropdown, Empty, List, Typography } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { useSession } from "../auth/useSession";
import { CHANGED, inboxesFor, latest, markRead, subjectLink, unreadCount, type InboxItem } from "./inbox";

const EVERY_MS = 60_000;
const LATEST = 6;

export default function NotificationBell() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const session = useSession();
  const perms = session?.claims.perms.join(",") ?? "";
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the inboxes change only with the permissions
  const inboxes = useMemo(() => inboxesFor(session?.claims), [perms]);
  const [count, setCount] = useState(0);
  const [rows, setRows] = useState<InboxItem[]>([]);
  const [open, setOpen] = useState(false);

  const refresh = useCallback(() => {
    if (inboxes.length === 0) return;
    unreadCount(inboxes).then(setCount).catch(() => undefined);
  }, [inboxes]);

  useEffect(() => {
    refresh();
    const timer = window.setInterval(refresh, EVERY_MS);
    window.addEventListener(CHANGED, refresh);
    return () => {
      window.clearInterval(timer);
      window.removeEventListener(CHANGED, refresh);
    };
  }, [refresh]);

  useEffect(() => {
    if (!open || inboxes.length === 0) return;
    const ctrl = new AbortController();
    latest(inboxes, LATEST, {}, ctrl.signal)
      .then((r) => setRows(r.rows))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [open, inboxes, count]);

  if (inboxes.length === 0) return null;
  const openItem = (n: InboxItem) => {
    setOpen(false);
    if (!n.read) void markRead(inboxes, n).catch(() => undefined);
    const to = subjectLink(n);
    if (to) navigate(to);
  };
  const panel = (
    <div style={{ width: 360, background: "#fff", boxShadow: "0 6px 16px rgba(0,0,0,.12)", borderRadius: 8 }} data-testid="bell-dropdown">
      <List
        size="small"
        dataSource={rows}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("notifications.none")} /> }}
        renderItem={(n) => (
          <List.Item style={{ cursor: "pointer", paddingInline: 12 }} onClick={() => openItem(n)} data-testid="bell-item">
            <List.Item.Meta
              title={
                <Typography.Text strong={!n.read} ellipsis>
                  {n.title}
                </Typography.Text>
              }
              description={<Typography.Text type="secondary" ellipsis>{n.text}</Typography.Text>}
            />
          </List.Item>
        )}
      />
      <div style={{ padding: 8, textAlign: "center", borderTop: "1px solid #f0f0f0" }}>
        <Button
          type="link"
          size="small"
          onClick={() => {
            setOpen(false);
            navigate("/notifications");
          }}
          data-testid="bell-all"
        >
          {t("notifications.viewAll")}
        </Button>
      </div>
    </div>
  );
  return (
    <Dropdown open={open} onOpenChange={setOpen} trigger={["click"]} popupRender={() => panel} placement="bottomRight">
      <span>
        <Badge count={count} size="small" overflowCount={99}>
          <Button
            type="text"
            icon={<BellOutlined />}
            aria-label={t("notifications.title")}
            data-testid="notification-bell"
            data-count={count}
          />
        </Badge>
      </span>
    </Dropdown>
  );
}
