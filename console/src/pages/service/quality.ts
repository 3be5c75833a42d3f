// The service-quality board's pure logic (服务质量看板, GET /api/v1/service/quality): the period the
// board asks for, the figures as the cards show them, the per-node chart, and the ticket-list
// drill-downs the list's filters allow.
import type { components } from "../../api/gen/service";
import { splitMinutes, type TicketListState } from "./logic";

type S = components["schemas"];
export type Quality = S["ServiceQualityRead"];
export type QualityFigures = S["QualityFigures"];
export type NodeQuality = S["NodeQuality"];
export type GradeCount = S["GradeCount"];

export type PeriodPreset = "7d" | "30d" | "90d" | "month";

/** The period [start, end) of a preset as of `now`: the last n days up to now, or this calendar month
 * (local time) up to now. */
export function presetPeriod(preset: PeriodPreset, now: Date): { start: Date; end: Date } {
  const end = new Date(now.getTime());
  if (preset === "month") return { start: new Date(now.getFullYear(), now.getMonth(), 1), end };
  const days = preset === "7d" ? 7 : preset === "30d" ? 30 : 90;
  return { start: new Date(now.getTime() - days * 86_400_000), end };
}

/** A picked day range (local dates, both included) as the period [first day 00:00, day after the last 00:00). */
export function dayRangePeriod(first: Date, last: Date): { start: Date; end: Date } {
  return {
    start: new Date(first.getFullYear(), first.getMonth(), first.getDate()),
    end: new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1),
  };
}

/** The board's query: RFC 3339 instants with an offset (UTC, "Z"), as the API requires. */
export function qualityQuery(p: { start: Date; end: Date }): { periodStart: string; periodEnd: string } {
  return { periodStart: p.start.toISOString(), periodEnd: p.end.toISOString() };
}

/** A share (0..1) as a percentage with one decimal; no share (nothing to divide by) is "—". */
export function formatShare(share: number | null | undefined): string {
  if (share === null || share === undefined) return "—";
  return `${(Math.round(share * 1000) / 10).toFixed(1)}%`;
}

/** A mean score (1..5) with one decimal; none is "—". */
export function formatScore(score: number | null | undefined): string {
  return score === null || score === undefined ? "—" : score.toFixed(1);
}

/** MTTR in whole minutes split for the label ("2天3小时5分"); null when nothing was resolved. */
export function mttrParts(minutes: number | null | undefined): { d: number; h: number; m: number } | null {
  if (minutes === null || minutes === undefined) return null;
  return splitMinutes(Math.round(minutes));
}

/** Open tickets now over every grade, and how many of them breached a deadline. */
export function openTotals(rows: readonly GradeCount[]): { open: number; breached: number } {
  return rows.reduce((acc, r) => ({ open: acc.open + r.open, breached: acc.breached + r.breached }), { open: 0, breached: 0 });
}

const EMPTY_LIST: TicketListState = {
  page: 1,
  pageSize: 20,
  q: "",
  status: [],
  ticketType: [],
  priority: [],
  breached: false,
  ownerNode: "",
  customerGrade: "",
  createdFrom: "",
  createdTo: "",
};

/** The ticket list behind a board row: a grade's open tickets now, or the tickets a node accepted in
 * the period (the list filters by owner node and creation date; a dispatched reporter's ticket, which
 * the board leaves out, is the handler's ticket's twin at another node). */
export function drillDown(
  target: { kind: "grade"; grade: string } | { kind: "node"; node: string },
  period: { periodStart: string; periodEnd: string },
): TicketListState {
  if (target.kind === "grade") return { ...EMPTY_LIST, status: ["acknowledged", "inProgress", "pending"], customerGrade: target.grade };
  return { ...EMPTY_LIST, ownerNode: target.node, createdFrom: period.periodStart, createdTo: period.periodEnd };
}

/** The per-node bar chart: accepted, resolved, closed and the breaches of the period, one group per node. */
export function nodeChartOption(rows: readonly NodeQuality[], label: (key: "accepted" | "resolved" | "closed" | "responseBreached" | "resolveBreached") => string) {
  const keys = ["accepted", "resolved", "closed", "responseBreached", "resolveBreached"] as const;
  const colors: Record<(typeof keys)[number], string> = {
    accepted: "#1677ff",
    resolved: "#52c41a",
    closed: "#13c2c2",
    responseBreached: "#faad14",
    resolveBreached: "#f5222d",
  };
  return {
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: keys.map(label) },
    grid: { left: 40, right: 16, top: 40, bottom: 30 },
    xAxis: { type: "category", data: rows.map((r) => r.node) },
    yAxis: { type: "value", minInterval: 1 },
    series: keys.map((k) => ({ name: label(k), type: "bar", itemStyle: { color: colors[k] }, data: rows.map((r) => r[k]) })),
  };
}
