// Pure logic of the F1 panels (needs profile, competitors, decision map, verification, duplicates and
// merge): what to send and what may be offered, kept apart from the components so vitest can test it.
import type { components } from "../../api/gen/customer";
import { hasPermission, type Claims } from "../../auth/session";

type S = components["schemas"];
export type NeedsProfile = S["NeedsProfileRead"];
export type CompetitorPresence = S["CompetitorPresenceRead"];
export type DecisionMap = S["DecisionMapRead"];
export type DecisionNode = S["DecisionNode"];
export type ContactRelation = S["ContactRelationRead"];
export type Verification = S["VerificationRead"];
export type DuplicatePair = S["PairRead"];
export type Merge = S["MergeRead"];
export type MergeProposal = S["MergeProposalRead"];
export type ProposalSide = S["ProposalSideRead"];
export type BulkResult = S["BulkResult"];
export type AuditRecord = S["AuditRecordRead"];

/** The needs profile's attributes, in the order the panel shows them (needs/schemas.py FIELDS). */
export const NEEDS_FIELDS = [
  "networkSituation",
  "businessSituation",
  "techInnovationGoals",
  "currentProductUsage",
  "decisionProcess",
  "latentNeeds",
  "businessScope",
  "customersOfCustomer",
] as const;
export type NeedsField = (typeof NEEDS_FIELDS)[number];

export const RELATION_TYPES = ["REPORTS_TO", "INFLUENCES", "ALLY", "OPPONENT"] as const;
export const DECISION_ROLES = ["DECISION_MAKER", "INFLUENCER", "USER"] as const;

/** The merge patch of a needs profile: changed attributes only, a cleared one is null. */
export function needsPatch(before: Partial<Record<NeedsField, string | null>> | null, values: Partial<Record<NeedsField, string | undefined>>): Partial<Record<NeedsField, string | null>> {
  const patch: Partial<Record<NeedsField, string | null>> = {};
  for (const k of NEEDS_FIELDS) {
    if (!(k in values)) continue;
    const raw = values[k];
    const next = raw === undefined || raw.trim() === "" ? null : raw;
    const old = before?.[k] ?? null;
    if (old !== next) patch[k] = next;
  }
  return patch;
}

/** The products a competitor holds, from the comma / 、 / newline separated text of the form. */
export function splitProducts(text: string | undefined | null): string[] {
  if (!text) return [];
  const seen = new Set<string>();
  for (const p of text.split(/[,，、;；\n]/)) {
    const v = p.trim();
    if (v) seen.add(v);
  }
  return [...seen];
}

const ROLE_CATEGORY: Record<string, number> = { DECISION_MAKER: 0, INFLUENCER: 1, USER: 2 };
const OTHER_CATEGORY = 3;
export const RELATION_COLORS: Record<string, string> = { REPORTS_TO: "#5470c6", INFLUENCES: "#fac858", ALLY: "#91cc75", OPPONENT: "#ee6666" };

export interface GraphNode {
  id: string;
  name: string;
  category: number;
  symbolSize: number;
  value: string;
}
export interface GraphLink {
  id: string;
  source: string;
  target: string;
  relationType: string;
  lineStyle: { color: string; curveness: number; type: "solid" | "dashed" };
  label: { show: true; formatter: string };
}

/**
 * Nodes and links of ECharts' graph series from a decision map: one node per contact (category by
 * decision role; a decision maker drawn larger), one directed link per relation (deleted ones left
 * out, a relation to a contact that is not in the map dropped). Two relations between the same pair
 * (A → B and B → A: cycles are allowed) are curved apart so both stay visible.
 */
export function decisionGraph(map: Pick<DecisionMap, "contacts" | "relations">, relationLabel: (type: string) => string = (x) => x): { nodes: GraphNode[]; links: GraphLink[] } {
  const ids = new Set(map.contacts.map((c) => c.id));
  const nodes = map.contacts.map((c) => {
    const category = c.decisionRole != null && c.decisionRole in ROLE_CATEGORY ? (ROLE_CATEGORY[c.decisionRole] ?? OTHER_CATEGORY) : OTHER_CATEGORY;
    return {
      id: c.id,
      name: c.fullName,
      category,
      symbolSize: category === 0 ? 56 : 42,
      value: [c.title, c.department].filter(Boolean).join(" · "),
    };
  });
  const live = map.relations.filter((r) => ids.has(r.fromContactId) && ids.has(r.toContactId) && !(r as { deleted?: boolean }).deleted);
  const pairCount = new Map<string, number>();
  const links = live.map((r) => {
    const key = [r.fromContactId, r.toContactId].sort().join("|");
    const n = pairCount.get(key) ?? 0;
    pairCount.set(key, n + 1);
    return {
      id: r.id,
      source: r.fromContactId,
      target: r.toContactId,
      relationType: r.relationType,
      lineStyle: { color: RELATION_COLORS[r.relationType] ?? "#999", curveness: 0.15 + 0.15 * n, type: r.relationType === "OPPONENT" ? ("dashed" as const) : ("solid" as const) },
      label: { show: true as const, formatter: relationLabel(r.relationType) },
    };
  });
  return { nodes, links };
}

/** Who may judge a customer's verification here: the verifying node (its owner's province) with the permission. */
export function canVerify(claims: Claims | null | undefined, here: string | undefined, v: Pick<Verification, "verifierNode"> | null): boolean {
  return !!v?.verifierNode && here !== undefined && v.verifierNode === here && hasPermission(claims, "customer.verification:write");
}

/** Offered bulk verification on the list: only at a node that verifies someone (a province), with the permission. */
export function canBulkVerify(claims: Claims | null | undefined, tier: string | undefined): boolean {
  return tier === "province" && hasPermission(claims, "customer.verification:write");
}

/** A merge the API would accept from here: both customers owned by this node, open pair, permission. */
export function canMerge(claims: Claims | null | undefined, here: string | undefined, pair: Pick<DuplicatePair, "ownerA" | "ownerB" | "status">): boolean {
  return mergeMode(claims, here, undefined, pair) === "merge";
}

/** What this node may do with an open pair: merge it (both owned here), propose a merge to the owners (from a
 * group or province node, across owner nodes, one of them possibly this node: the API checks that this
 * node is a common ancestor and answers 409 otherwise), or nothing. */
export function mergeMode(claims: Claims | null | undefined, here: string | undefined, tier: string | undefined, pair: Pick<DuplicatePair, "ownerA" | "ownerB" | "status">): "merge" | "propose" | null {
  if (pair.status !== "OPEN" || here === undefined || !hasPermission(claims, "customer:merge")) return null;
  if (pair.ownerA === here && pair.ownerB === here) return "merge";
  // the API decides whether this node is a common ancestor of both owners (409 naming why otherwise)
  if (tier !== "local") return "propose";
  return null;
}

/** What this node may do with a proposal: answer its own side while pending, or withdraw its own proposal. */
export function proposalActions(claims: Claims | null | undefined, here: string | undefined, p: Pick<MergeProposal, "state" | "ownerNode" | "sides">): { answer: ProposalSide | null; withdraw: boolean } {
  const may = here !== undefined && hasPermission(claims, "customer:merge") && p.state === "PENDING";
  const side = may ? (p.sides.find((s) => s.node === here && s.status === "PENDING") ?? null) : null;
  return { answer: side, withdraw: may && p.ownerNode === here };
}

/** The attributes a merge may choose field by field (merge/service.py), in the dialog's order. */
export const MERGE_ATTRIBUTES = [
  "name",
  "shortName",
  "creditCode",
  "address",
  "industry",
  "nature",
  "mgmtLevel",
  "valueType",
  "grade",
  "enterpriseScale",
  "accountManager",
  "description",
] as const;

type Attrs = Record<string, unknown>;
const blank = (v: unknown) => v === null || v === undefined || v === "";

/** The attributes on which survivor and victim differ (the only ones worth a choice). */
export function differingAttributes(a: Attrs, b: Attrs): string[] {
  return MERGE_ATTRIBUTES.filter((k) => !(blank(a[k]) && blank(b[k])) && a[k] !== b[k]);
}

/**
 * The `choices` of a merge: per attribute, the customer whose value the survivor takes. Only choices
 * of the victim are sent — an attribute not named keeps the survivor's value (or takes the victim's
 * where the survivor has none), which is what "survivor" picked in the dialog means.
 */
export function mergeChoices(survivorId: string, picked: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(picked).filter(([, id]) => id !== survivorId));
}
