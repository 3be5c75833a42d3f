import { describe, expect, it } from "vitest";
import { ticketQuery } from "./logic";
import {
  dayRangePeriod,
  drillDown,
  formatScore,
  formatShare,
  mttrParts,
  nodeChartOption,
  openTotals,
  presetPeriod,
  qualityQuery,
  type NodeQuality,
} from "./quality";

const NOW = new Date("2026-03-15T10:30:00Z");

function node(code: string, over: Partial<NodeQuality> = {}): NodeQuality {
  return {
    node: code,
    accepted: 0,
    responseBreached: 0,
    resolveBreached: 0,
    resolved: 0,
    mttrMinutes: null,
    closed: 0,
    resolveInSla: null,
    surveyed: 0,
    satisfaction: null,
    satisfiedShare: null,
    reopened: 0,
    ...over,
  };
}

describe("quality board period", () => {
  it("asks for the last n days up to now as RFC 3339 instants with an offset", () => {
    expect(qualityQuery(presetPeriod("7d", NOW))).toEqual({ periodStart: "2026-03-08T10:30:00.000Z", periodEnd: "2026-03-15T10:30:00.000Z" });
    expect(qualityQuery(presetPeriod("30d", NOW)).periodStart).toBe("2026-02-13T10:30:00.000Z");
  });
  it("starts this month on its first local day, and a picked day range includes its last day", () => {
    const month = presetPeriod("month", NOW);
    expect([month.start.getFullYear(), month.start.getMonth(), month.start.getDate(), month.start.getHours()]).toEqual([2026, 2, 1, 0]);
    const r = dayRangePeriod(new Date(2026, 2, 1, 15), new Date(2026, 2, 3, 9));
    expect(r.start.getTime()).toBe(new Date(2026, 2, 1).getTime());
    expect(r.end.getTime()).toBe(new Date(2026, 2, 4).getTime());
  });
});

describe("quality board figures", () => {
  it("shows shares as percentages and scores with one decimal, '—' when there is nothing to divide", () => {
    expect(formatShare(0.9167)).toBe("91.7%");
    expect(formatShare(1)).toBe("100.0%");
    expect(formatShare(0)).toBe("0.0%");
    expect(formatShare(null)).toBe("—");
    expect(formatScore(4.25)).toBe("4.3");
    expect(formatScore(null)).toBe("—");
  });
  it("splits MTTR into days, hours and minutes, rounded to the minute", () => {
    expect(mttrParts(1440 + 125.6)).toEqual({ d: 1, h: 2, m: 6 });
    expect(mttrParts(null)).toBeNull();
  });
  it("adds the open tickets and their breaches over the grades", () => {
    expect(openTotals([{ grade: "A", open: 3, breached: 1 }, { grade: "B", open: 4, breached: 2 }])).toEqual({ open: 7, breached: 3 });
    expect(openTotals([])).toEqual({ open: 0, breached: 0 });
  });
  it("draws one bar group per node and one series per figure, in the API's order", () => {
    const option = nodeChartOption([node("gd", { accepted: 2 }), node("gd-gz", { accepted: 5, resolveBreached: 1 })], (k) => `L:${k}`);
    expect(option.xAxis.data).toEqual(["gd", "gd-gz"]);
    expect(option.series.map((s) => s.name)).toEqual(["L:accepted", "L:resolved", "L:closed", "L:responseBreached", "L:resolveBreached"]);
    expect(option.series[0]?.data).toEqual([2, 5]);
    expect(option.series[4]?.data).toEqual([0, 1]);
  });
});

describe("quality board drill-down", () => {
  const period = { periodStart: "2026-03-01T00:00:00.000Z", periodEnd: "2026-03-15T00:00:00.000Z" };
  it("opens a grade's open tickets and a node's tickets accepted in the period", () => {
    expect(ticketQuery(drillDown({ kind: "grade", grade: "A" }, period))).toEqual({
      offset: 0, limit: 20, sort: "-creationDate", status: "acknowledged,inProgress,pending", customerGrade: "A",
    });
    expect(ticketQuery(drillDown({ kind: "node", node: "gd-gz" }, period))).toEqual({
      offset: 0, limit: 20, sort: "-creationDate", ownerNode: "gd-gz", "creationDate.gte": period.periodStart, "creationDate.lt": period.periodEnd,
    });
  });
});
