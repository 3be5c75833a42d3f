// Pure logic of the pipeline screens (issue 11): the stages in their order, money as the server sends it
// ({unit, value} with a decimal string), and the merge patch that moves a deal.

/** The stages in pipeline order (services/sales opportunity/schemas.py Stage); WON and LOST are final. */
export const STAGES = ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"] as const;
export type Stage = (typeof STAGES)[number];
/** The stages of an open deal (opportunity/schemas.py OPEN): what a quote may still be linked to. */
export const OPEN_STAGES = STAGES.filter((s) => s !== "WON" && s !== "LOST");

export interface Money {
  unit: string;
  value: string | number;
}

export interface Opportunity {
  id: string;
  name: string;
  description?: string | null;
  customer: { id: string; name?: string };
  source: string;
  stage: string;
  probability: number;
  expectedAmount: Money;
  weightedAmount?: Money;
  closeDate?: string | null;
  competitor?: string | null;
  accountManager: string;
  closeReason?: string | null;
  ownerNode: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface StageChange {
  from?: string | null;
  to: string;
  probability: number;
  at: string;
  by: string;
  reason?: string | null;
}

export interface FunnelStage {
  stage: string;
  count: number;
  amounts: Money[];
}

export interface Funnel {
  stages: FunnelStage[];
}

const SYMBOLS: Record<string, string> = { CNY: "¥", USD: "$", EUR: "€", HKD: "HK$" };

/** "¥960,000.00": the decimal string grouped by thousands as it is (no float rounding); "—" for none. */
export function formatMoney(m: Money | null | undefined): string {
  if (!m) return "—";
  const raw = String(m.value).trim();
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(raw);
  const prefix = SYMBOLS[m.unit] ?? `${m.unit} `;
  if (!match) return `${prefix}${raw}`;
  const [, sign, int, frac] = match;
  return `${sign}${prefix}${(int ?? "").replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${frac ?? ""}`;
}

/** A stage's amounts, one per currency ("¥1,000.00 / $20.00"); "—" when the stage has none. */
export function formatAmounts(amounts: Money[]): string {
  return amounts.length ? amounts.map(formatMoney).join(" / ") : "—";
}

/** The funnel's stages in pipeline order, every known stage present (count 0 when the server left it out). */
export function orderStages(stages: FunnelStage[]): FunnelStage[] {
  const byStage = new Map(stages.map((s) => [s.stage, s]));
  const known: FunnelStage[] = STAGES.map((stage) => byStage.get(stage) ?? { stage, count: 0, amounts: [] });
  const unknown = stages.filter((s) => !(STAGES as readonly string[]).includes(s.stage));
  return [...known, ...unknown];
}

/** Won and lost close the deal and need a close reason. */
export function needsReason(stage: string | undefined): boolean {
  return stage === "WON" || stage === "LOST";
}

/** The merge patch that moves a deal; the reason is sent only for a closing stage. */
export function stagePatch(stage: string, closeReason?: string): { stage: string; closeReason?: string } {
  const reason = closeReason?.trim();
  return needsReason(stage) && reason ? { stage, closeReason: reason } : { stage };
}
