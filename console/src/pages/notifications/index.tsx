// The notification centre (消息中心): every notification of the user across the services' inboxes,
// newest first, paged, with an unread filter; mark one or all read; a title opens the subject record.
import { Button, Card, Segmented, Space, Table, Tag, Typography, type TableProps } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { useSession } from "../../auth/useSession";
import { CHANGED, inboxesFor, latest, markAllRead, markRead, subjectLink, type InboxItem } from "../../components/inbox";
import { formatTime } from "../../components/labels";

const PAGE_SIZE = 20;

export default function NotificationsPage() {
  const { t } = useTranslation();
  const session = useSession();
  const perms = session?.claims.perms.join(",") ?? "";
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the inboxes change only with the permissions
  const inboxes = useMemo(() => inboxesFor(session?.claims), [perms]);
  const [view, setView] = useState<"all" | "unread">("unread");
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState<InboxItem[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);
  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    window.addEventListener(CHANGED, reload);
    return () => window.removeEventListener(CHANGED, reload);
  }, [reload]);

  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    // a page of the merged list: the first page × size of every inbox, merged, then the page's slice
    latest(inboxes, page * PAGE_SIZE, view === "unread" ? { read: false } : {}, ctrl.signal)
      .then((r) => {
        setRows(r.rows.slice((page - 1) * PAGE_SIZE));
        setTotal(r.total);
      })
      .catch(() => undefined)
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [inboxes, page, view, reloads]);

  const columns: TableProps<InboxItem>["columns"] = [
    {
      key: "title",
      title: t("notifications.subject"),
      render: (_, n) => {
        const to = subjectLink(n);
        const title = <Typography.Text strong={!n.read}>{n.title}</Typography.Text>;
        return (
          <Space direction="vertical" size={0}>
            {to ? (
              <Link to={to} onClick={() => void (n.read ? undefined : markRead(inboxes, n))} data-testid="notification-link">
                {title}
              </Link>
            ) : (
              title
            )}
            <Typography.Text type="secondary">{n.text}</Typography.Text>
          </Space>
        );
      },
    },
    { key: "kind", title: t("notifications.kind"), render: (_, n) => <Tag>{t(`notifications.kinds.${n.kind}`, { defaultValue: n.kind })}</Tag> },
    { key: "to", title: t("notifications.to"), render: (_, n) => n.recipientUser ?? t("notifications.role", { role: n.recipientRole }) },
    { key: "createdAt", title: t("common.createdAt"), render: (_, n) => formatTime(n.createdAt) },
    {
      key: "read",
      title: t("common.status"),
      render: (_, n) =>
        n.read ? (
          <Tag data-testid="notification-read">{t("notifications.read")}</Tag>
        ) : (
          <Button size="small" onClick={() => void markRead(inboxes, n)} data-testid="mark-read">
            {t("notifications.markRead")}
          </Button>
        ),
    },
  ];

  return (
    <Card
      title={t("notifications.title")}
      data-testid="notifications-page"
      extra={
        <Space>
          <Segmented
            value={view}
            onChange={(v) => {
              setView(v === "all" ? "all" : "unread");
              setPage(1);
            }}
            options={[
              { value: "unread", label: t("notifications.unread") },
              { value: "all", label: t("notifications.all") },
            ]}
            data-testid="notifications-view"
          />
          <Button onClick={() => void markAllRead(inboxes)} data-testid="mark-all-read">
            {t("notifications.markAllRead")}
          </Button>
        </Space>
      }
    >
      <Table<InboxItem>
        rowKey={(n) => `${n.service}:${n.id}`}
        columns={columns}
        dataSource={rows}
        loading={loading}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total,
          onChange: setPage,
          showTotal: (n: number) => t("common.total", { count: n }),
        }}
        data-testid="notifications-table"
      />
    </Card>
  );
}
