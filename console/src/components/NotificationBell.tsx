// The header's bell (消息中心): the unread count over the user's inboxes, a panel of the latest, and the
// way to the /notifications page. Polls every minute and reloads when read state changes. The panel is
// a lazy chunk (it uses antd's data components, which the first screen does not load).
import { BellOutlined } from "@ant-design/icons";
import { Badge, Button } from "antd";
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useSession } from "../auth/useSession";
import { CHANGED, inboxesFor, unreadCount } from "./inbox";

const BellPanel = lazy(() => import("./BellPanel"));
const EVERY_MS = 60_000;

export default function NotificationBell() {
  const { t } = useTranslation();
  const session = useSession();
  const perms = session?.claims.perms.join(",") ?? "";
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the inboxes change only with the permissions
  const inboxes = useMemo(() => inboxesFor(session?.claims), [perms]);
  const [count, setCount] = useState(0);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLSpanElement>(null);

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
    if (!open) return;
    const outside = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);

  if (inboxes.length === 0) return null;
  return (
    <span ref={box} style={{ position: "relative", display: "inline-block" }}>
      <Badge count={count} size="small" overflowCount={99}>
        <Button
          type="text"
          icon={<BellOutlined />}
          aria-label={t("notifications.title")}
          aria-expanded={open}
          onClick={() => setOpen((o) => !o)}
          data-testid="notification-bell"
          data-count={count}
        />
      </Badge>
      {open && (
        <Suspense fallback={null}>
          <BellPanel inboxes={inboxes} count={count} onClose={() => setOpen(false)} />
        </Suspense>
      )}
    </span>
  );
}
