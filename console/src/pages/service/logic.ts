// The service screens' pure logic: the SLA state of a ticket from its deadlines, the moves a ticket
// offers (TMF621 statuses and the closed loop, as kam_service.ticket.states), the list query, and the
// knowledge search's highlights (server HTML-escaped, hits in <em>) as text segments.
import type { Query } from "../../api/client";
import type { components } from "../../api/gen/service";

type S = components["schemas"];
export type Ticket = S["TroubleTicketRead"];
export type Sla = S["SlaRead"];
export type TicketStatus = S["Status"];
export type KnowledgeItem = S["KnowledgeItemRead"];

export const TICKET_TYPES: S["TicketType"][] = ["COMPLAINT", "FAULT", "CONSULTATION", "CHANGE_REQUEST"];
export const CHANNELS: S["Channel"][] = ["HOTLINE", "CS_10000", "ACCOUNT_MANAGER", "EMAIL", "WEB"];
export const PRIORITIES: S["Priority"][] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
export const STATUSES: TicketStatus[] = ["acknowledged", "inProgress", "pending", "resolved", "closed", "rejected", "cancelled"];
export const ITEM_KINDS: S["ItemKind"][] = ["PRODUCT_SPEC", "SOLUTION_CASE", "POLICY", "COMPETITOR", "FAQ"];
export const ITEM_STATUSES: S["ItemStatus"][] = ["draft", "reviewed", "published", "retired"];
export const CATEGORIES: S["Category"][] = ["CONTRACT_SCAN", "PROPOSAL", "TENDER", "VISIT_MINUTES", "SOLUTION", "OTHER"];

/** met: done in time; late: done after the deadline; breached: not done and past it (or flagged);
 * soon: not done, less than a quarter of the allowance (at most an hour) left; running; paused (the
 * customer is awaited: the deadline moves on resume); stopped (the ticket ended without it); none. */
export type DeadlineState = "met" | "late" | "breached" | "soon" | "running" | "paused" | "stopped" | "none";

export interface Deadline {
  state: DeadlineState;
  dueAt: string | null;
  /** minutes to the deadline (negative: past it) while it still runs, else null */
  minutesLeft: number | null;
}

const FINISHED: ReadonlySet<string> = new Set(["closed", "rejected", "cancelled"]);

function deadline(
  due: string | null,
  doneAt: string | null,
  breached: boolean,
  allowance: number,
  paused: boolean,
  finished: boolean,
  now: Date,
): Deadline {
  if (!due) return { state: "none", dueAt: null, minutesLeft: null };
  if (doneAt) return { state: breached || Date.parse(doneAt) > Date.parse(due) ? "late" : "met", dueAt: due, minutesLeft: null };
  if (finished) return { state: breached ? "breached" : "stopped", dueAt: due, minutesLeft: null };
  const left = Math.floor((Date.parse(due) - now.getTime()) / 60_000);
  if (breached || left < 0) return { state: "breached", dueAt: due, minutesLeft: left };
  if (paused) return { state: "paused", dueAt: due, minutesLeft: left };
  const threshold = Math.min(60, Math.max(1, Math.floor(allowance / 4)));
  return { state: left <= threshold ? "soon" : "running", dueAt: due, minutesLeft: left };
}

/** The response and resolution deadlines of a ticket as of `now`. */
export function slaState(t: Pick<Ticket, "sla" | "status">, now: Date): { response: Deadline; resolve: Deadline } {
  const sla = t.sla;
  if (!sla) {
    const none: Deadline = { state: "none", dueAt: null, minutesLeft: null };
    return { response: none, resolve: none };
  }
  const finished = FINISHED.has(t.status ?? "");
  const paused = sla.pausedSince !== null;
  return {
    response: deadline(sla.responseDueAt, sla.respondedAt, sla.responseBreached, sla.responseMinutes, paused, finished, now),
    resolve: deadline(sla.resolveDueAt, sla.resolvedAt, sla.resolveBreached, sla.resolveMinutes, paused, finished, now),
  };
}

/** Whether the ticket is in breach of either deadline (the list highlights its row). */
export function isBreached(t: Pick<Ticket, "sla" | "status">, now: Date): boolean {
  const s = slaState(t, now);
  return s.response.state === "breached" || s.resolve.state === "breached" || s.response.state === "late" || s.resolve.state === "late";
}

/** |minutes| as days, hours, minutes (for "2天3小时" / "2d 3h"). */
export function splitMinutes(minutes: number): { d: number; h: number; m: number } {
  const abs = Math.abs(minutes);
  return { d: Math.floor(abs / 1440), h: Math.floor((abs % 1440) / 60), m: abs % 60 };
}

// the moves a PATCH may ask for (kam_service.ticket.states.TRANSITIONS); resolved moves by a revisit only
const TRANSITIONS: Record<TicketStatus, TicketStatus[]> = {
  acknowledged: ["inProgress", "pending", "resolved", "rejected", "cancelled"],
  inProgress: ["pending", "resolved", "cancelled"],
  pending: ["inProgress", "cancelled"],
  resolved: [],
  closed: [],
  rejected: [],
  cancelled: [],
};

export type TicketAction = { kind: "move"; to: TicketStatus } | { kind: "revisit" };

/** What this user may do to the ticket here: nothing without service.ticket:write, at a replica (only
 * the owner node takes writes) or on a reporter's ticket handed down to another node. */
export function ticketActions(t: Pick<Ticket, "status" | "ownerNode" | "dispatch">, node: string | undefined, canWrite: boolean): TicketAction[] {
  if (!canWrite || !node || t.ownerNode !== node || t.dispatch?.dispatchedTo) return [];
  const status = t.status ?? "acknowledged";
  if (status === "resolved") return [{ kind: "revisit" }];
  return (TRANSITIONS[status] ?? []).map((to) => ({ kind: "move", to }));
}

/** The ticket's customer (relatedParty role customer). */
export function customerOf(t: Pick<Ticket, "relatedParty">): { id: string; name: string | null } | null {
  const p = t.relatedParty?.find((r) => r.role === "customer");
  return p ? { id: p.id, name: p.name } : null;
}

export interface TicketListState {
  page: number;
  pageSize: number;
  q: string;
  status: string[];
  ticketType: string[];
  priority: string[];
  breached: boolean;
  /** drill-downs from the quality board: one owner node, one customer grade, a creation period */
  ownerNode: string;
  customerGrade: string;
  createdFrom: string;
  createdTo: string;
}

/** The list state → the TMF630 query of the ticket list (comma = OR, newest first). */
export function ticketQuery(s: TicketListState): Query {
  const q: Query = { offset: (s.page - 1) * s.pageSize, limit: s.pageSize, sort: "-creationDate" };
  if (s.q.trim()) q.q = s.q.trim();
  if (s.status.length) q.status = s.status.join(",");
  if (s.ticketType.length) q.ticketType = s.ticketType.join(",");
  if (s.priority.length) q.priority = s.priority.join(",");
  if (s.breached) q["sla.resolveBreached"] = true;
  if (s.ownerNode) q.ownerNode = s.ownerNode;
  if (s.customerGrade) q.customerGrade = s.customerGrade;
  if (s.createdFrom) q["creationDate.gte"] = s.createdFrom;
  if (s.createdTo) q["creationDate.lt"] = s.createdTo;
  return q;
}

export function ticketStateFromSearch(p: URLSearchParams): TicketListState {
  const list = (k: string) => (p.get(k) ? (p.get(k) ?? "").split(",").filter(Boolean) : []);
  return {
    page: Math.max(1, Number(p.get("page")) || 1),
    pageSize: Math.min(100, Math.max(1, Number(p.get("pageSize")) || 20)),
    q: p.get("q") ?? "",
    status: list("status"),
    ticketType: list("ticketType"),
    priority: list("priority"),
    breached: p.get("breached") === "1",
    ownerNode: p.get("ownerNode") ?? "",
    customerGrade: p.get("customerGrade") ?? "",
    createdFrom: p.get("createdFrom") ?? "",
    createdTo: p.get("createdTo") ?? "",
  };
}

export function ticketStateToSearch(s: TicketListState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.page > 1) p.set("page", String(s.page));
  if (s.pageSize !== 20) p.set("pageSize", String(s.pageSize));
  if (s.q) p.set("q", s.q);
  for (const k of ["status", "ticketType", "priority"] as const) if (s[k].length) p.set(k, s[k].join(","));
  if (s.breached) p.set("breached", "1");
  for (const k of ["ownerNode", "customerGrade", "createdFrom", "createdTo"] as const) if (s[k]) p.set(k, s[k]);
  return p;
}

const ENTITIES: Record<string, string> = { "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|#x27|#39);/g, (m) => ENTITIES[m] ?? m);
}

/** A highlight (HTML-escaped text, hits in <em>…</em>) as plain segments, so no server HTML is injected. */
export function highlightSegments(html: string): { text: string; hit: boolean }[] {
  const out: { text: string; hit: boolean }[] = [];
  const re = /<em>(.*?)<\/em>/gs;
  let last = 0;
  for (const m of html.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: unescape(html.slice(last, at)), hit: false });
    out.push({ text: unescape(m[1] ?? ""), hit: true });
    last = at + m[0].length;
  }
  if (last < html.length) out.push({ text: unescape(html.slice(last)), hit: false });
  return out;
}

export type KnowledgeAction = "edit" | "review" | "publish" | "retire" | "revise";

/** The knowledge actions the API would accept from this user: only at the owner node, review by
 * someone other than the author (people are user@node), write for the rest. */
export function knowledgeActions(
  item: Pick<KnowledgeItem, "status" | "ownerNode" | "author">,
  me: { user: string; node: string } | null,
  perms: { write: boolean; review: boolean },
): KnowledgeAction[] {
  if (!me || item.ownerNode !== me.node) return [];
  const out: KnowledgeAction[] = [];
  const self = item.author === `${me.user}@${me.node}`;
  if (item.status === "draft" && perms.write) out.push("edit");
  if (item.status === "draft" && perms.review && !self) out.push("review");
  if (item.status === "reviewed" && perms.write) out.push("publish");
  if (item.status === "published" && perms.write) out.push("revise");
  if (item.status !== "retired" && perms.write) out.push("retire");
  return out;
}

export type TicketCommand = "reassign" | "dispatch";

const OPEN_STATUSES: ReadonlySet<string> = new Set(["acknowledged", "inProgress", "pending"]);

/** 改派 and 派单 as the API takes them: at the owner node with service.ticket:write, not on a reporter's
 * ticket already handed down; reassign until the ticket is finished (closed, rejected, cancelled),
 * dispatch of an open ticket (not resolved) from a node with nodes below it (the group, a province). */
export function ticketCommands(
  t: Pick<Ticket, "status" | "ownerNode" | "dispatch">,
  node: string | undefined,
  canWrite: boolean,
  hasNodesBelow: boolean,
): TicketCommand[] {
  if (!canWrite || !node || t.ownerNode !== node || t.dispatch?.dispatchedTo) return [];
  const status = t.status ?? "acknowledged";
  const out: TicketCommand[] = [];
  if (!FINISHED.has(status)) out.push("reassign");
  if (hasNodesBelow && OPEN_STATUSES.has(status)) out.push("dispatch");
  return out;
}

/** 撤回派单 as the API takes it: the reporter's dispatched ticket, at its owner node with service.ticket:write,
 * while the handler has not started — nothing mirrored back yet (handlerVersion 0) or still acknowledged. */
export function canWithdrawDispatch(t: Pick<Ticket, "status" | "ownerNode" | "dispatch">, node: string | undefined, canWrite: boolean): boolean {
  const d = t.dispatch;
  if (!canWrite || !node || t.ownerNode !== node || !d?.dispatchedTo) return false;
  return d.handlerVersion === 0 || t.status === "acknowledged";
}

export type ReassignMode = "rule" | "queue" | "handler";

/** The body of POST …/assign: a named handler (optionally filed under a queue), a queue whose rule
 * picks, or {} — the rule again. */
export function assignBody(v: { mode: ReassignMode; queueId?: string; handler?: string; reason?: string }): {
  handler?: string;
  queueId?: string;
  reason?: string;
} {
  const body: { handler?: string; queueId?: string; reason?: string } = {};
  if (v.mode === "handler" && v.handler?.trim()) body.handler = v.handler.trim();
  if ((v.mode === "queue" || v.mode === "handler") && v.queueId) body.queueId = v.queueId;
  if (v.reason?.trim()) body.reason = v.reason.trim();
  return body;
}

export type CareActivity = S["CareActivityRead"];
export type CareStatus = S["CareStatus"];
export const CARE_KINDS: S["CareKind"][] = ["BIRTHDAY_GREETING", "HOLIDAY_GREETING", "EXECUTIVE_VISIT", "VIP_EVENT"];

// kam_service.care.states.TRANSITIONS
const CARE_MOVES: Record<CareStatus, CareStatus[]> = {
  PROPOSED: ["PLANNED", "DONE", "CANCELLED"],
  PLANNED: ["DONE", "CANCELLED"],
  DONE: [],
  CANCELLED: [],
};

/** The moves of a care activity the API takes from this user here (owner node, service.care:write). */
export function careMoves(a: Pick<CareActivity, "status" | "ownerNode">, node: string | undefined, canWrite: boolean): CareStatus[] {
  if (!canWrite || !node || a.ownerNode !== node) return [];
  return CARE_MOVES[a.status ?? "PROPOSED"] ?? [];
}

/** A money amount from the form (yuan, up to 2 decimals) as the API's Money, or null when empty;
 * a negative or malformed amount is refused here as the API would. */
export function toMoney(value: string | number | null | undefined): { value: string; unit: "CNY" } | null {
  if (value === null || value === undefined || String(value).trim() === "") return null;
  const s = String(value).trim();
  if (!/^\d+(\.\d{1,2})?$/.test(s)) throw new Error(`not an amount: ${s}`);
  return { value: s, unit: "CNY" };
}

export type ExpertRequest = S["ExpertRequestRead"];
export type ExpertAction = "assign" | "outcome" | "close" | "cancel";

/** The expert-request steps the API takes from this user (kam_service.expert: REQUESTED → ASSIGNED →
 * ANSWERED → CLOSED; cancel before the answer; only at the requesting node): assign with
 * service.expert:write, the outcome by the assigned expert or a service.expert:write holder, close and
 * cancel with service.expert:request. */
export function expertActions(
  r: Pick<ExpertRequest, "status" | "ownerNode" | "expert">,
  node: string | undefined,
  perms: { write: boolean; request: boolean; read: boolean },
  myExpertIds: ReadonlySet<string>,
): ExpertAction[] {
  if (!node || r.ownerNode !== node) return [];
  const status = r.status ?? "REQUESTED";
  const mine = r.expert ? myExpertIds.has(r.expert.id) : false;
  const out: ExpertAction[] = [];
  if (perms.write && (status === "REQUESTED" || status === "ASSIGNED" || status === "ANSWERED")) out.push("assign");
  if (status === "ASSIGNED" && (perms.write || (perms.read && mine))) out.push("outcome");
  if (status === "ANSWERED" && perms.request) out.push("close");
  if ((status === "REQUESTED" || status === "ASSIGNED") && perms.request) out.push("cancel");
  return out;
}
