import { describe, expect, it } from "vitest";
import { formatAmounts, formatMoney, needsReason, orderStages, stagePatch } from "./logic";

describe("formatMoney", () => {
  it("groups the integer part of the decimal string and keeps its fraction exactly", () => {
    expect(formatMoney({ unit: "CNY", value: "960000.00" })).toBe("¥960,000.00");
    expect(formatMoney({ unit: "CNY", value: "12345678901234567.89" })).toBe("¥12,345,678,901,234,567.89");
    expect(formatMoney({ unit: "CNY", value: 999 })).toBe("¥999");
  });
  it("names a currency without a symbol and shows a negative sign first", () => {
    expect(formatMoney({ unit: "GBP", value: "1000.5" })).toBe("GBP 1,000.5");
    expect(formatMoney({ unit: "USD", value: "-1234" })).toBe("-$1,234");
  });
  it("shows none as a dash and an unparsable value as it is", () => {
    expect(formatMoney(null)).toBe("—");
    expect(formatMoney({ unit: "CNY", value: "abc" })).toBe("¥abc");
  });
  it("joins a stage's amounts per currency", () => {
    expect(formatAmounts([{ unit: "CNY", value: "1000" }, { unit: "USD", value: "20.00" }])).toBe("¥1,000 / $20.00");
    expect(formatAmounts([])).toBe("—");
  });
});

describe("orderStages", () => {
  it("puts the funnel in pipeline order and fills missing stages with zero", () => {
    const out = orderStages([
      { stage: "WON", count: 2, amounts: [] },
      { stage: "LEAD", count: 5, amounts: [{ unit: "CNY", value: "1" }] },
    ]);
    expect(out.map((s) => s.stage)).toEqual(["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON", "LOST"]);
    expect(out.map((s) => s.count)).toEqual([5, 0, 0, 0, 2, 0]);
  });
  it("keeps a stage it does not know, last", () => {
    expect(orderStages([{ stage: "ON_HOLD", count: 1, amounts: [] }]).at(-1)?.stage).toBe("ON_HOLD");
  });
});

describe("stagePatch", () => {
  it("sends the close reason only when closing", () => {
    expect(needsReason("WON")).toBe(true);
    expect(needsReason("PROPOSAL")).toBe(false);
    expect(stagePatch("LOST", "  price  ")).toEqual({ stage: "LOST", closeReason: "price" });
    expect(stagePatch("PROPOSAL", "ignored")).toEqual({ stage: "PROPOSAL" });
    expect(stagePatch("WON", " ")).toEqual({ stage: "WON" });
  });
});
