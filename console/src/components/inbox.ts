// The notification inboxes (消息中心, docs/notifications.md): one per service that delivers, each at
// /api/v1/<service>/notifications. The bell and the /notifications page read them all and merge.
import { api, type ApiPath } from "../api/client";
import type { Claims } from "../auth/session";

export interface Notification {
  id: string;
  href: string;
  kind: string;
  title: string;
  text: string;
  subject: { id?: string | null; "@referredType": string };
  recipientUser?: string | null;
  recipientRole?: string | null;
  read: boolean;
  readAt?: string | null;
  readBy?: string | null;
  createdAt: string;
}

/** A notification with the inbox it came from (to mark it read there). */
export interface InboxItem extends Notification {
  service: string;
}

export interface Inbox {
  service: string;
  list: ApiPath;
  one: ApiPath;
  markAll: ApiPath;
  /** the permission prefix of the service: a user holding none of its permissions gets nothing from it */
  prefix: string;
}

export const INBOXES: Inbox[] = [
  {
    service: "sales",
    list: "/api/v1/sales/notifications",
    one: "/api/v1/sales/notifications/{notification_id}",
    markAll: "/api/v1/sales/notifications/markAllRead",
    prefix: "sales.",
  },
  {
    service: "service",
    list: "/api/v1/service/notifications",
    one: "/api/v1/service/notifications/{notification_id}",
    markAll: "/api/v1/service/notifications/markAllRead",
    prefix: "service.",
  },
];

/** The inboxes of the services this user can read (any permission of the service, or "*"). */
export function inboxesFor(claims: Claims | null | undefined, inboxes: Inbox[] = INBOXES): Inbox[] {
  if (!claims) return [];
  const perms = claims.perms;
  return inboxes.filter((i) => perms.includes("*") || perms.some((p) => p.startsWith(i.prefix)));
}

/** Newest first across inboxes (ties by id, the ids are time-ordered). */
export function mergeNewest(lists: InboxItem[][]): InboxItem[] {
  return lists.flat().sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/** The console route of the record a notification is about (null: no screen for it). */
export function subjectLink(n: Pick<Notification, "subject">): string | null {
  const id = n.subject.id;
  switch (n.subject["@referredType"]) {
    case "Agreement":
      return id ? `/sales/contracts/${id}` : "/sales/contracts";
    case "Opportunity":
      return id ? `/sales/opportunities/${id}` : "/sales/opportunities";
    case "TroubleTicket":
      return id ? `/service/tickets/${id}` : "/service/tickets";
    case "CareActivity":
      return "/service/care";
    default:
      return null;
  }
}

/** Tell every bell and list on the page that read state changed (they reload). */
export const CHANGED = "kam:notifications-changed";
export function announceChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

/** The unread count: the sum of X-Total-Count of `read=false` over the inboxes (limit=0: no rows). */
export async function unreadCount(inboxes: Inbox[], signal?: AbortSignal): Promise<number> {
  const totals = await Promise.all(
    inboxes.map((i) => api.get<Notification[]>(i.list, { query: { read: false, limit: 0 }, signal }).then((r) => r.total ?? 0)),
  );
  return totals.reduce((a, b) => a + b, 0);
}

/** The first `count` notifications across the inboxes, newest first, and the total of all of them. */
export async function latest(
  inboxes: Inbox[],
  count: number,
  query: Record<string, string | boolean | undefined> = {},
  signal?: AbortSignal,
): Promise<{ rows: InboxItem[]; total: number }> {
  const pages = await Promise.all(
    inboxes.map((i) =>
      api
        .get<Notification[]>(i.list, { query: { ...query, sort: "-createdAt", limit: count, offset: 0 }, signal })
        .then((r) => ({ rows: r.data.map((n) => ({ ...n, service: i.service })), total: r.total ?? r.data.length })),
    ),
  );
  return { rows: mergeNewest(pages.map((p) => p.rows)).slice(0, count), total: pages.reduce((a, p) => a + p.total, 0) };
}

export async function markRead(inboxes: Inbox[], n: InboxItem): Promise<void> {
  const inbox = inboxes.find((i) => i.service === n.service);
  if (!inbox) return;
  await api.patch(inbox.one, { path: { notification_id: n.id }, body: { read: true } });
  announceChanged();
}

export async function markAllRead(inboxes: Inbox[]): Promise<void> {
  await Promise.all(inboxes.map((i) => api.post(i.markAll, { body: {} })));
  announceChanged();
}
