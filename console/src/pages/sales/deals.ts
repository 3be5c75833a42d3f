// Pure logic of the deals screens (issue 11): the catalogue tree and its prices, the quote's totals and
// the actions a quote or a contract offers, and the days left on a contract. Money is decimal strings
// ({unit, value}); amounts are computed in integer cents (no float rounding), as the server does.
import type { components } from "../../api/gen/sales";
import type { Claims } from "../../auth/session";
import { hasPermission } from "../../auth/session";
import type { Money } from "./logic";

type S = components["schemas"];
export type Category = S["CategoryRead"];
export type Offering = S["OfferingRead"];
export type Price = S["PriceRead"];
export type Availability = S["AvailabilityRead"];
export type Quote = S["QuoteRead"];
export type QuoteItem = S["QuoteItemRead"];
export type Agreement = S["AgreementRead"];
export type Reminder = S["ReminderRead"];

export const QUOTE_STATES = ["inProgress", "pending", "approved", "rejected", "accepted", "cancelled", "superseded"] as const;
export const AGREEMENT_STATUSES = ["inProgress", "signed", "terminated", "cancelled"] as const;
export const EXPIRY_DAYS = 90;

// --- the catalogue -------------------------------------------------------------------------------

export interface CategoryNode {
  key: string;
  title: string;
  category: Category;
  children: CategoryNode[];
}

/** Product lines as a tree by parentId (a sub-line whose parent is not visible is shown at the root), by name. */
export function categoryTree(categories: Category[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>(categories.map((c) => [c.id, { key: c.id, title: c.name ?? c.id, category: c, children: [] }]));
  const roots: CategoryNode[] = [];
  for (const c of categories) {
    const node = nodes.get(c.id);
    if (!node) continue;
    const parent = c.parentId ? nodes.get(c.parentId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: CategoryNode[]) => {
    list.sort((a, b) => a.title.localeCompare(b.title, "zh"));
    list.forEach((n) => sort(n.children));
  };
  sort(roots);
  return roots;
}

/** "2026-01-01 – 2027-01-01" of a TMF validFor (date-times shown by their day; an open end as "…"). */
export function formatValidFor(v: { startDateTime?: string | null; endDateTime?: string | null } | null | undefined): string {
  const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : "…");
  if (!v) return "—";
  return `${day(v.startDateTime)} – ${day(v.endDateTime)}`;
}

/** The price a quote line takes as its list unit price: the offering's first recurring tariff, else one-time, else usage. */
export function listPrice(prices: Price[]): Money | null {
  for (const type of ["recurring", "oneTime", "usage"]) {
    const p = prices.find((x) => x.priceType === type && x.price);
    if (p?.price) return { unit: p.price.unit, value: String(p.price.value) };
  }
  return null;
}

/** A province (or the group) authors availability; a local network only reads. */
export function canAuthorAvailability(tier: string | undefined, claims: Claims | null | undefined): boolean {
  return tier === "province" && hasPermission(claims, "sales.catalog:write");
}

/** The availability item this node holds for an offering (its own, the latest), if any. */
export function ownAvailability(items: Availability[], node: string): Availability | null {
  const own = items.filter((a) => a.ownerNode === node);
  own.sort((a, b) => (b.lastUpdate ?? "").localeCompare(a.lastUpdate ?? ""));
  return own[0] ?? null;
}

// --- money in cents -------------------------------------------------------------------------------

/** "12.5" → 1250n; null when not a decimal with at most two places. */
export function toCents(value: string | number): bigint | null {
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(String(value).trim());
  if (!m) return null;
  return BigInt(m[1] ?? "0") * 100n + BigInt((m[2] ?? "").padEnd(2, "0"));
}

/** 1250n → "12.50". */
export function fromCents(cents: bigint): string {
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const frac = (abs % 100n).toString().padStart(2, "0");
  return `${neg ? "-" : ""}${(abs / 100n).toString()}.${frac}`;
}

/** A percent with at most two places as hundredths of a percent ("12.5" → 1250n); null when not one. */
function toBasisHundredths(p: string | number): bigint | null {
  return toCents(p);
}

export interface DraftLine {
  offeringId?: string;
  quantity?: number | null;
  unitPrice?: Money | null;
  discountPercent?: string | number | null;
}

export interface LineTotal {
  gross: string;
  amount: string;
}

export interface QuoteTotals {
  currency: string | null;
  lines: (LineTotal | null)[];
  subtotal: string;
  total: string;
  discount: string;
  maxDiscountPercent: string;
  /** several currencies among the lines (the server refuses them) */
  mixedCurrencies: boolean;
}

/** n ÷ d to the nearest integer, an exact half to the even one: Python's Decimal.quantize (ROUND_HALF_EVEN),
 * which the server's amounts use. For a non-negative numerator. */
function divRound(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = (n % d) * 2n;
  if (twice > d || (twice === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/** The quote's totals as the server computes them: a line is quantity × unit price × (1 − discount%), to
 * the cent; the subtotal at list prices, the total after discounts. An incomplete line counts as nothing. */
export function quoteTotals(lines: DraftLine[]): QuoteTotals {
  let subtotal = 0n;
  let total = 0n;
  let maxDiscount = 0n;
  const currencies = new Set<string>();
  const out = lines.map((l): LineTotal | null => {
    const qty = l.quantity ?? 0;
    const price = l.unitPrice ? toCents(l.unitPrice.value) : null;
    const disc = toBasisHundredths(l.discountPercent ?? 0);
    if (!l.unitPrice || price === null || disc === null || !Number.isInteger(qty) || qty <= 0 || disc > 10000n) return null;
    currencies.add(l.unitPrice.unit);
    const gross = price * BigInt(qty);
    const amount = divRound(gross * (10000n - disc), 10000n);
    subtotal += gross;
    total += amount;
    if (disc > maxDiscount) maxDiscount = disc;
    return { gross: fromCents(gross), amount: fromCents(amount) };
  });
  const pct = fromCents(maxDiscount).replace(/\.?0+$/, "");
  return {
    currency: [...currencies][0] ?? null,
    lines: out,
    subtotal: fromCents(subtotal),
    total: fromCents(total),
    discount: fromCents(subtotal - total),
    maxDiscountPercent: pct === "" ? "0" : pct,
    mixedCurrencies: currencies.size > 1,
  };
}

/** Above the threshold (percent) the submitted quote goes to the manager for approval. */
export function needsApproval(maxDiscountPercent: string, thresholdPercent: string | number): boolean {
  const a = toCents(maxDiscountPercent);
  const b = toCents(thresholdPercent);
  return a !== null && b !== null && a > b;
}

// --- what a quote offers ---------------------------------------------------------------------------

export type QuoteAction = "edit" | "submit" | "approve" | "reject" | "revise" | "accept" | "cancel";

/** The actions the API allows for the quote's state and this user: content is edited and submitted only
 * inProgress; a pending quote is approved or rejected by a holder of sales.quote:approve who is neither
 * its author nor its account manager (the API also checks that they manage the account manager); any
 * open state is revised or cancelled; approved → accepted. Only at the owner node (a replica reads). */
export function quoteActions(q: Pick<Quote, "state" | "ownerNode" | "createdBy" | "accountManager">, claims: Claims | null | undefined, node: string | undefined): QuoteAction[] {
  if (!claims || !q.state || q.ownerNode !== node) return [];
  const write = hasPermission(claims, "sales.quote:write");
  const approve = hasPermission(claims, "sales.quote:approve");
  const out: QuoteAction[] = [];
  const open = ["inProgress", "pending", "approved", "rejected"].includes(q.state);
  if (write && q.state === "inProgress") out.push("edit", "submit");
  if (approve && q.state === "pending" && claims.sub !== q.createdBy && claims.sub !== q.accountManager) out.push("approve", "reject");
  if (write && q.state === "approved") out.push("accept");
  if (write && open) out.push("revise", "cancel");
  return out;
}

// --- contracts ------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Days from `today` (YYYY-MM-DD) until the contract expires on `end` (exclusive, by day): 0 on its last
 * day's next morning, negative once expired. */
export function daysLeft(end: string | null | undefined, today: string): number | null {
  if (!end) return null;
  const e = Date.parse(`${end.slice(0, 10)}T00:00:00Z`);
  const t = Date.parse(`${today.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(e) || Number.isNaN(t)) return null;
  return Math.round((e - t) / DAY_MS);
}

/** The day `days` after `day` (YYYY-MM-DD, UTC). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day.slice(0, 10)}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Today in UTC as YYYY-MM-DD (the server's days are UTC). */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** The expiry list's query: signed contracts ending within `days` from today, soonest first. */
export function expiringQuery(today: string, days = EXPIRY_DAYS): Record<string, string> {
  return {
    status: "signed",
    "agreementPeriod.endDateTime.gte": today,
    "agreementPeriod.endDateTime.lte": addDays(today, days),
    sort: "agreementPeriod.endDateTime",
  };
}

/** The contract a renewal proposes: the next period as long as the current one, starting when it ends. */
export function renewalPeriod(p: { startDateTime: string; endDateTime: string } | undefined): { startDateTime: string; endDateTime: string } | null {
  if (!p) return null;
  const length = daysLeft(p.endDateTime, p.startDateTime);
  if (length === null || length <= 0) return null;
  return { startDateTime: p.endDateTime.slice(0, 10), endDateTime: addDays(p.endDateTime, length) };
}

export type AgreementAction = "sign" | "renew" | "notRenewed" | "terminate" | "cancel";

/** What a contract offers (the API's rules): inProgress → sign or cancel; a signed contract not yet renewed
 * nor decided → renew or mark not renewed; signed → terminate. Only at the owner node with write. */
export function agreementActions(a: Pick<Agreement, "status" | "renewalStatus" | "ownerNode">, claims: Claims | null | undefined, node: string | undefined): AgreementAction[] {
  if (!hasPermission(claims, "sales.agreement:write") || a.ownerNode !== node) return [];
  if (a.status === "inProgress") return ["sign", "cancel"];
  if (a.status === "signed") return a.renewalStatus === "none" ? ["renew", "notRenewed", "terminate"] : ["terminate"];
  return [];
}

// --- the quote form ---------------------------------------------------------------------------------

/** The form's lines: the offering, quantity, list unit price (a decimal string) and its currency, discount. */
export interface FormLine {
  offeringId?: string;
  quantity?: number | null;
  unitPrice?: string | null;
  unit?: string | null;
  discountPercent?: string | number | null;
  note?: string | null;
}

export function draftLines(lines: FormLine[] | undefined): DraftLine[] {
  return (lines ?? []).map((l) => ({
    offeringId: l.offeringId,
    quantity: l.quantity,
    unitPrice: l.unitPrice !== undefined && l.unitPrice !== null && l.unitPrice !== "" ? { unit: l.unit || "CNY", value: l.unitPrice } : null,
    discountPercent: l.discountPercent ?? 0,
  }));
}

/** The request body's quoteItem of the form's lines. */
export function quoteItems(lines: FormLine[] | undefined) {
  return (lines ?? []).map((l) => ({
    productOffering: { id: l.offeringId ?? "" },
    quantity: l.quantity ?? 1,
    unitPrice: { unit: l.unit || "CNY", value: String(l.unitPrice ?? "") },
    discountPercent: String(l.discountPercent ?? 0),
    ...(l.note ? { note: l.note } : {}),
  }));
}

/** The form lines of a saved quote (to edit it). */
export function formLines(items: QuoteItem[] | undefined): FormLine[] {
  return (items ?? []).map((it) => ({
    offeringId: it.productOffering.id,
    quantity: it.quantity,
    unitPrice: String(it.unitPrice.value),
    unit: it.unitPrice.unit,
    discountPercent: it.discountPercent,
    note: it.note,
  }));
}

const LINE_FIELDS: Record<string, string> = { productOffering: "offeringId", unitPrice: "unitPrice", quantity: "quantity", discountPercent: "discountPercent", note: "note" };
const TOP_FIELDS = new Set(["number", "name", "customer", "opportunity", "validUntil", "description", "quoteItem"]);

/** The form field (antd name path) a server error names: `quoteItem[1].productOffering.id` (the service) or
 * `body.quoteItem.1.quantity` (the request's validation) → ["quoteItem", 1, "offeringId"]; `customer.id` →
 * ["customer"]; null for a field the form does not have. */
export function quoteFieldPath(field: string): (string | number)[] | null {
  const parts = field
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter((p) => p && p !== "body");
  const [top, index, attr] = parts;
  if (top === "quoteItem" && index !== undefined && /^\d+$/.test(index)) {
    const name = attr ? LINE_FIELDS[attr] : "offeringId";
    return name ? ["quoteItem", Number(index), name] : null;
  }
  if (top === "quoteItem") return null; // the list itself (empty, too long): shown above the form
  return top && TOP_FIELDS.has(top) ? [top] : null;
}

/** Every field error of a TMF error body (details.errors[] and details.field), with its raw field name. */
export function rawFieldErrors(body: { message?: string; details?: unknown } | null | undefined): { field: string; message: string }[] {
  const d = (body?.details ?? null) as { field?: unknown; errors?: unknown } | null;
  if (!d) return [];
  const out: { field: string; message: string }[] = [];
  if (Array.isArray(d.errors)) for (const e of d.errors as { field?: unknown; message?: unknown }[]) if (typeof e.field === "string" && typeof e.message === "string") out.push({ field: e.field, message: e.message });
  if (out.length === 0 && typeof d.field === "string") out.push({ field: d.field, message: body?.message ?? "invalid" });
  return out;
}

// --- authoring the catalogue --------------------------------------------------------------------------

/** The group and the provinces author catalogue items (the API refuses a local network), with write. */
export function canAuthorCatalog(tier: string | undefined, claims: Claims | null | undefined): boolean {
  return (tier === "group" || tier === "province") && hasPermission(claims, "sales.catalog:write");
}

/** The lifecycle moves of an item (inDesign → active | retired, active → retired; retired is final),
 * offered only to its author node with write. */
export function lifecycleMoves(item: { lifecycleStatus?: string; ownerNode?: string }, tier: string | undefined, node: string | undefined, claims: Claims | null | undefined): string[] {
  if (!canAuthorCatalog(tier, claims) || item.ownerNode !== node) return [];
  if (item.lifecycleStatus === "inDesign") return ["active", "retired"];
  if (item.lifecycleStatus === "active") return ["retired"];
  return [];
}

/** A server field of the offering form (`category[0].id`, `productOfferingPrice[1].id`, `validFor.startDateTime`)
 * → the form's field name. */
export function offeringField(field: string): string {
  return field.replace(/^body\./, "").replace(/\[\d+\].*$|\.\d+.*$/, "").replace(/\.(id|startDateTime|endDateTime)$/, "");
}

// --- catalogue authoring: product lines, specifications, prices -----------------------------------

export type Specification = S["SpecificationRead"];
/** The catalogue items the console authors in one form (an offering has its own). */
export type CatalogKind = "category" | "productSpecification" | "productOfferingPrice";
export const PRICE_TYPES = ["recurring", "oneTime", "usage", "discount"] as const;
export const CHARGE_PERIODS = ["month", "year"] as const;
export const CURRENCIES = ["CNY", "USD", "EUR", "HKD"] as const;

/** The catalogue form's values: the common attributes, then each kind's own (dates as YYYY-MM-DD). */
export interface CatalogFormValues {
  name: string;
  description?: string | null;
  lifecycleStatus?: string;
  validFrom: string;
  validTo?: string | null;
  parentId?: string | null;
  code?: string | null;
  brand?: string | null;
  productNumber?: string | null;
  priceType?: string;
  priceUnit?: string;
  priceValue?: string | null;
  percentage?: string | null;
  recurringChargePeriodType?: string | null;
  recurringChargePeriodLength?: number | null;
  usageUnits?: string | null;
}

const text = (v: string | null | undefined): string | null => (v === null || v === undefined || v.trim() === "" ? null : v.trim());

/** The API body of the form's values for `kind`: a create body (absent optionals left out), or with
 * `patch` a merge patch of every field the form shows (a cleared one null, so the server drops it; the
 * price attributes that do not fit the price type null too). The lifecycle moves by its own patch. */
export function catalogItemBody(kind: CatalogKind, v: CatalogFormValues, patch = false): Record<string, unknown> {
  const gone = patch ? null : undefined;
  const opt = (x: unknown) => (x === null || x === undefined ? gone : x);
  const body: Record<string, unknown> = {
    name: v.name.trim(),
    description: opt(text(v.description)),
    validFor: { startDateTime: v.validFrom, endDateTime: opt(text(v.validTo)) },
  };
  if (!patch) body.lifecycleStatus = v.lifecycleStatus ?? "inDesign";
  if (kind === "category") {
    body.parentId = opt(text(v.parentId));
    body.code = opt(text(v.code));
  } else if (kind === "productSpecification") {
    body.brand = opt(text(v.brand));
    body.productNumber = opt(text(v.productNumber));
  } else {
    const type = v.priceType ?? "recurring";
    const byPercent = type === "discount" && text(v.percentage) !== null;
    body.priceType = type;
    body.price = byPercent || text(v.priceValue) === null ? gone : { unit: v.priceUnit ?? "CNY", value: text(v.priceValue) };
    body.percentage = byPercent ? text(v.percentage) : gone;
    body.recurringChargePeriodType = type === "recurring" ? opt(v.recurringChargePeriodType) : gone;
    body.recurringChargePeriodLength = type === "recurring" ? opt(v.recurringChargePeriodLength) : gone;
    body.unitOfMeasure = type === "usage" && text(v.usageUnits) !== null ? { amount: 1, units: text(v.usageUnits) } : gone;
  }
  return patch ? body : Object.fromEntries(Object.entries(body).filter(([, x]) => x !== undefined));
}

export interface CatalogItemLike {
  name?: string;
  description?: string | null;
  lifecycleStatus?: string;
  validFor?: { startDateTime?: string | null; endDateTime?: string | null } | null;
  parentId?: string | null;
  code?: string | null;
  brand?: string | null;
  productNumber?: string | null;
  priceType?: string;
  price?: { unit: string; value: string | number } | null;
  percentage?: string | number | null;
  recurringChargePeriodType?: string | null;
  recurringChargePeriodLength?: number | null;
  unitOfMeasure?: { units: string } | null;
}

/** A stored item as the form's values (catalogItemBody's inverse for what the form shows). */
export function catalogFormValues(item: CatalogItemLike): CatalogFormValues {
  const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : null);
  return {
    name: item.name ?? "",
    description: item.description ?? null,
    lifecycleStatus: item.lifecycleStatus,
    validFrom: day(item.validFor?.startDateTime) ?? todayUtc(),
    validTo: day(item.validFor?.endDateTime),
    parentId: item.parentId ?? null,
    code: item.code ?? null,
    brand: item.brand ?? null,
    productNumber: item.productNumber ?? null,
    priceType: item.priceType,
    priceUnit: item.price?.unit ?? "CNY",
    priceValue: item.price ? String(item.price.value) : null,
    percentage: item.percentage === null || item.percentage === undefined ? null : String(item.percentage),
    recurringChargePeriodType: item.recurringChargePeriodType ?? null,
    recurringChargePeriodLength: item.recurringChargePeriodLength ?? null,
    usageUnits: item.unitOfMeasure?.units ?? null,
  };
}

/** A server field of a catalogue item (already cut to its first part by fieldErrors: `price`, `validFor`,
 * `unitOfMeasure`) → the form's field name. */
export function catalogField(field: string): string {
  const name = offeringField(field);
  return { price: "priceValue", unitOfMeasure: "usageUnits" }[name] ?? name;
}

/** Whether this node may change an item (not its lifecycle alone): its author, with write, until retired. */
export function canEditCatalogItem(item: { lifecycleStatus?: string; ownerNode?: string }, tier: string | undefined, node: string | undefined, claims: Claims | null | undefined): boolean {
  return canAuthorCatalog(tier, claims) && item.ownerNode === node && item.lifecycleStatus !== "retired";
}

/** A product line's possible parents: every other line that is not below it (no cycles), by name. */
export function parentChoices(categories: Category[], self: string | undefined): Category[] {
  const below = new Set<string>(self ? [self] : []);
  let grew = !!self;
  while (grew) {
    grew = false;
    for (const c of categories) {
      if (c.parentId && below.has(c.parentId) && !below.has(c.id)) {
        below.add(c.id);
        grew = true;
      }
    }
  }
  return categories.filter((c) => !below.has(c.id) && c.lifecycleStatus !== "retired").sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "", "zh"));
}
