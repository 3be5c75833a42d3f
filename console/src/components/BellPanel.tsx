// The bell's panel: the latest notifications of the user (newest first across the inboxes); a click
// marks one read and opens its subject; "all" goes to the /notifications page.
import { Button, Empty, List, Typography } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { latest, markRead, subjectLink, type Inbox, type InboxItem } from "./inbox";

const LATEST = 6;

export default function BellPanel({ inboxes, count, onClose }: { inboxes: Inbox[]; count: number; onClose: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [rows, setRows] = useState<InboxItem[]>([]);

  useEffect(() => {
    const ctrl = new AbortController();
    latest(inboxes, LATEST, {}, ctrl.signal)
      .then((r) => setRows(r.rows))
      .catch(() => undefined);
    return () => ctrl.abort();
  }, [inboxes, count]);

  const open = (n: InboxItem) => {
    onClose();
    if (!n.read) void markRead(inboxes, n).catch(() => undefined);
    const to = subjectLink(n);
    if (to) void navigate(to);
  };
  return (
    <div
      style={{
        position: "absolute",
        right: 0,
        top: "calc(100% + 8px)",
        zIndex: 1050,
        width: 360,
        background: "#fff",
        boxShadow: "0 6px 16px rgba(0,0,0,.12)",
        borderRadius: 8,
        lineHeight: 1.5,
      }}
      data-testid="bell-dropdown"
    >
      <List
        size="small"
        dataSource={rows}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("notifications.none")} /> }}
        renderItem={(n) => (
          <List.Item style={{ cursor: "pointer", paddingInline: 12 }} onClick={() => open(n)} data-testid="bell-item">
            <List.Item.Meta
              title={
                <Typography.Text strong={!n.read} ellipsis>
                  {n.title}
                </Typography.Text>
              }
              description={
                <Typography.Text type="secondary" ellipsis>
                  {n.text}
                </Typography.Text>
              }
            />
          </List.Item>
        )}
      />
      <div style={{ padding: 8, textAlign: "center", borderTop: "1px solid #f0f0f0" }}>
        <Button
          type="link"
          size="small"
          onClick={() => {
            onClose();
            void navigate("/notifications");
          }}
          data-testid="bell-all"
        >
          {t("notifications.viewAll")}
        </Button>
      </div>
    </div>
  );
}
