// Pure logic of the marketing, leads, visits and forecast screens (issue 11): which campaign actions the
// API would allow this user, a target's allowed responses, the forecast's drill-down path, the visit
// calendar's day buckets and month window, the decision chain's one-role-per-contact rule, and periods.
import dayjs, { type Dayjs } from "dayjs";
import type { Claims } from "../../auth/session";
import type { Money } from "./logic";

// ---------------------------------------------------------------- campaigns

export const CAMPAIGN_STATUSES = ["draft", "approved", "running", "closed"] as const;
export const CHANNELS = ["visit", "phone", "sms", "email", "event", "online"] as const;
/** The customer attributes a segment filters on (services/sales campaign/schemas.py SEGMENT_ATTRIBUTES). */
export const SEGMENT_ATTRIBUTES = ["grade", "industry", "customerType", "nature", "mgmtLevel", "valueType", "status", "recognitionStatus", "accountManager", "ownerNode", "name"] as const;

export interface Campaign {
  id: string;
  name: string;
  objective: string;
  segment: { filter?: Record<string, string>; targetCount?: number; snapshotAt?: string };
  offers: { id: string; name?: string }[];
  channel: string;
  budget: Money;
  period: { startDateTime: string; endDateTime: string };
  status: string;
  approvedBy?: string | null;
  approvedAt?: string | null;
  launchedAt?: string | null;
  closedAt?: string | null;
  ownerNode: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export type CampaignAction = "approve" | "launch" | "close";

/** The status moves the API allows (draft → approved → running → closed), each by its operation. */
const NEXT: Record<string, CampaignAction | undefined> = { draft: "approve", approved: "launch", running: "close" };

/** The actions offered to this user: only at the author node (elsewhere 409 NOT_OWNER), approve with
 * sales.campaign:approve by someone other than the author (403 SEPARATION_OF_DUTIES), launch and close
 * with sales.campaign:write. */
export function campaignActions(c: Pick<Campaign, "status" | "ownerNode" | "createdBy">, claims: Pick<Claims, "sub" | "node" | "perms"> | null | undefined): CampaignAction[] {
  if (!claims || claims.node !== c.ownerNode) return [];
  const action = NEXT[c.status];
  if (!action) return [];
  const has = (p: string) => claims.perms.includes("*") || claims.perms.includes(p);
  if (action === "approve") return has("sales.campaign:approve") && claims.sub !== c.createdBy ? ["approve"] : [];
  return has("sales.campaign:write") ? [action] : [];
}

/** A campaign is edited (merge patch) only while a draft, at its author node, with sales.campaign:write
 * (campaign/service.py: anything but a draft is a 409, another node's a 409 NOT_OWNER). */
export function canEditCampaign(c: Pick<Campaign, "status" | "ownerNode">, claims: Pick<Claims, "node" | "perms"> | null | undefined): boolean {
  if (!claims || c.status !== "draft" || claims.node !== c.ownerNode) return false;
  return claims.perms.includes("*") || claims.perms.includes("sales.campaign:write");
}

/** A saved filter as the form's rows (segmentFilter's inverse), in the attributes' order. */
export function segmentRows(filter: Record<string, string> | undefined): { key: string; value: string }[] {
  const order = (k: string) => {
    const i = (SEGMENT_ATTRIBUTES as readonly string[]).indexOf(k);
    return i < 0 ? SEGMENT_ATTRIBUTES.length : i;
  };
  return Object.entries(filter ?? {})
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}

/** A segment's filter without empty values ({} when nothing is left), from the form's rows. */
export function segmentFilter(rows: { key?: string; value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows ?? []) {
    const key = r.key?.trim();
    const value = r.value?.trim();
    if (key && value) out[key] = value;
  }
  return out;
}

export const RESPONSES = ["interested", "notInterested", "converted"] as const;
export type TargetResponse = "none" | (typeof RESPONSES)[number];

/** A target's response moves (campaign/service.py RESPONSE_MOVES): converted is final. */
const RESPONSE_MOVES: Record<string, readonly string[]> = {
  none: RESPONSES,
  interested: ["notInterested", "converted"],
  notInterested: ["interested", "converted"],
  converted: [],
};

export function responseMoves(current: string): readonly string[] {
  return RESPONSE_MOVES[current] ?? [];
}

export interface CampaignTarget {
  campaign: { id: string };
  customer: { id: string; name?: string };
  node: string;
  accountManager?: string | null;
  attempts: { channel?: string; note?: string; at?: string; by?: string }[];
  response: string;
  respondedAt?: string | null;
  opportunity?: { id: string } | null;
}

/** A target is worked only where its customer is (elsewhere 409 NOT_OWNER), while the campaign runs. */
export function canWorkTarget(target: Pick<CampaignTarget, "node">, campaign: Pick<Campaign, "status">, claims: Pick<Claims, "node" | "perms"> | null | undefined): boolean {
  if (!claims || campaign.status !== "running" || target.node !== claims.node) return false;
  return claims.perms.includes("*") || claims.perms.includes("sales.opportunity:write");
}

export interface EvaluationLine {
  node: string;
  targets: number;
  contacted: number;
  responders: number;
  conversions: number;
  responseRate?: string | null;
  pipeline: Money;
  won: Money;
  cost: Money;
  costPerResponse?: Money | null;
}

export interface Evaluation {
  campaign: { id: string; name?: string };
  node: string;
  total: EvaluationLine;
  lines: EvaluationLine[];
}

// ---------------------------------------------------------------- drill-down (forecast, evaluation)

/** The path after clicking a line's node: one level deeper, or unchanged for the current node itself. */
export function drillInto(path: readonly string[], node: string): string[] {
  if (path[path.length - 1] === node) return [...path];
  const at = path.indexOf(node);
  return at >= 0 ? path.slice(0, at + 1) : [...path, node];
}

/** The path after clicking the breadcrumb at `index`: back up to that node. */
export function drillUp(path: readonly string[], index: number): string[] {
  return path.slice(0, Math.max(0, Math.min(index, path.length - 1)) + 1);
}

/** A line can be drilled into when it is a child's (the node's own line is the node itself). */
export function canDrill(lineNode: string | null | undefined, current: string): boolean {
  return !!lineNode && lineNode !== current;
}

/** A node is a leaf when the server gives no child's line (only its own). */
export function isLeaf(lines: { node?: string | null }[], current: string): boolean {
  return lines.every((l) => !l.node || l.node === current);
}

// ---------------------------------------------------------------- forecast

export interface ForecastLine {
  node?: string | null;
  accountManager?: string | null;
  currency: string;
  openCount: number;
  pipeline: Money;
  weighted: Money;
  committed: Money;
  wonCount: number;
}

export interface Forecast {
  node: string;
  start: string;
  end: string;
  by: string;
  lines: ForecastLine[];
}

export type PeriodKind = "month" | "quarter";

/** The [start, end) dates of the month or quarter containing `day` (YYYY-MM-DD, end exclusive). */
export function periodRange(kind: PeriodKind, day: Dayjs | string): { start: string; end: string } {
  const d = dayjs(day);
  const first = kind === "month" ? d.startOf("month") : d.month(Math.floor(d.month() / 3) * 3).startOf("month");
  const end = first.add(kind === "month" ? 1 : 3, "month");
  return { start: first.format("YYYY-MM-DD"), end: end.format("YYYY-MM-DD") };
}

/** The chart's value of a money amount (a decimal string) — a number only for drawing, never for sums. */
export function moneyNumber(m: Money | null | undefined): number {
  const n = Number(m?.value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

// ---------------------------------------------------------------- visits

export interface Participant {
  name: string;
  side: "ours" | "customer";
  role?: string | null;
  contactId?: string | null;
}

export interface FollowUpTask {
  title: string;
  dueDate?: string | null;
  assignee?: string | null;
  status?: string;
}

export interface Visit {
  id: string;
  customer: { id: string; name?: string };
  opportunity?: { id: string } | null;
  subject: string;
  purpose?: string | null;
  location?: string | null;
  status: string;
  plannedAt: string;
  visitedAt?: string | null;
  participants: Participant[];
  outcome?: string | null;
  minutes?: string | null;
  followUps: FollowUpTask[];
  accountManager: string;
  ownerNode: string;
  version: number;
}

export const OUTCOMES = ["positive", "neutral", "negative"] as const;

/** The calendar's query window for the month shown: [first day, first day of the next month) at local
 * midnight, as RFC 3339 times with the offset (the API's plannedAt filter). */
export function monthWindow(month: Dayjs | string): { "plannedAt.gte": string; "plannedAt.lt": string } {
  const first = dayjs(month).startOf("month");
  return { "plannedAt.gte": first.format(), "plannedAt.lt": first.add(1, "month").format() };
}

/** Visits by local day (YYYY-MM-DD) of their planned time, each day's in time order. */
export function bucketByDay<T extends { plannedAt: string }>(visits: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  const sorted = [...visits].sort((a, b) => dayjs(a.plannedAt).valueOf() - dayjs(b.plannedAt).valueOf());
  for (const v of sorted) {
    const day = dayjs(v.plannedAt).format("YYYY-MM-DD");
    const list = out.get(day);
    if (list) list.push(v);
    else out.set(day, [v]);
  }
  return out;
}

/** Only a planned visit is recorded (planned → done) or cancelled; a done or cancelled one is fixed. */
export function canRecord(v: Pick<Visit, "status">): boolean {
  return v.status === "planned";
}

/** Participants from the form (names trimmed, empty rows left out). */
export function cleanParticipants(rows: { name?: string; side?: string; role?: string }[] | undefined): Participant[] {
  return (rows ?? [])
    .filter((r) => r.name?.trim())
    .map((r) => ({ name: (r.name ?? "").trim(), side: r.side === "customer" ? "customer" : "ours", role: r.role?.trim() || undefined }));
}

// ---------------------------------------------------------------- leads

export const LEAD_STATUSES = ["new", "qualified", "converted", "rejected"] as const;
export const RATINGS = ["hot", "warm", "cold"] as const;
export const LEAD_SOURCES = ["CAMPAIGN", "VISIT", "REFERRAL", "INBOUND", "OTHER"] as const;

/** Status moves by PATCH (lead/schemas.py TRANSITIONS); conversion is its own operation. */
const LEAD_MOVES: Record<string, readonly string[]> = { new: ["qualified", "rejected"], qualified: ["new", "rejected"], converted: [], rejected: [] };

export function leadMoves(status: string): readonly string[] {
  return LEAD_MOVES[status] ?? [];
}

export function canConvert(status: string): boolean {
  return status === "new" || status === "qualified";
}

export interface Lead {
  id: string;
  name: string;
  description?: string | null;
  status: string;
  statusReason?: string | null;
  rating: string;
  source: string;
  customer?: { id: string; name?: string } | null;
  prospectName?: string | null;
  estimatedRevenue?: Money | null;
  accountManager: string;
  salesOpportunity?: { id: string } | null;
  ownerNode: string;
  creationDate: string;
  statusChangeDate: string;
}

// ---------------------------------------------------------------- decision chain

export const CHAIN_ROLES = ["decisionMaker", "influencer", "user"] as const;
export type ChainRole = (typeof CHAIN_ROLES)[number];

export interface ChainLink {
  contactId: string;
  name?: string | null;
  role: ChainRole;
  note?: string | null;
}

/** The chain with `contactId` in `role`: one role per contact, so an earlier role of theirs is replaced
 * (in place); a new contact is appended. */
export function setChainRole(chain: readonly ChainLink[], link: ChainLink): ChainLink[] {
  const at = chain.findIndex((l) => l.contactId === link.contactId);
  if (at < 0) return [...chain, link];
  return chain.map((l, i) => (i === at ? { ...l, ...link } : l));
}

export function removeFromChain(chain: readonly ChainLink[], contactId: string): ChainLink[] {
  return chain.filter((l) => l.contactId !== contactId);
}

/** The contact ids named more than once (a chain the API would not take). */
export function duplicateContacts(chain: readonly ChainLink[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const l of chain) {
    if (seen.has(l.contactId)) dup.add(l.contactId);
    seen.add(l.contactId);
  }
  return [...dup];
}

/** The merge patch of the next follow-up: a time with its offset (RFC 3339) and an optional note. */
export function followUpPatch(at: Dayjs, note?: string): { nextFollowUp: { at: string; note?: string } } {
  const n = note?.trim();
  return { nextFollowUp: n ? { at: at.format(), note: n } : { at: at.format() } };
}

export interface CompletionLine {
  node?: string | null;
  accountManager?: string | null;
  planned: number;
  done: number;
  rate?: string | null;
}

/** The whole of the lines (the node's own and its children's): planned, done, and done ÷ planned as a
 * percent to 2 places (the API's VISIT_DONE form), null when nothing was planned. */
export function completionTotal(lines: CompletionLine[]): { planned: number; done: number; rate: string | null } {
  const planned = lines.reduce((s, l) => s + l.planned, 0);
  const done = lines.reduce((s, l) => s + l.done, 0);
  return { planned, done, rate: planned ? ((done * 100) / planned).toFixed(2) : null };
}

/** What the opportunity detail edits beyond the pipeline's fields. */
export interface ChainAndFollowUp {
  decisionChain?: ChainLink[];
  nextFollowUp?: { at: string; note?: string | null } | null;
}

/** The kanban's close-date range from the picker's days (both included) as the API's [start, end). */
export function closeRange(days: [Dayjs, Dayjs] | null): { start?: string; end?: string } {
  return days ? { start: days[0].format("YYYY-MM-DD"), end: days[1].add(1, "day").format("YYYY-MM-DD") } : {};
}
