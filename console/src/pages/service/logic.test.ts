import { describe, expect, it } from "vitest";
import { SCREENS, visibleScreens } from "../../modules";
import {
  assignBody,
  careMoves,
  expertActions,
  highlightSegments,
  isBreached,
  knowledgeActions,
  slaState,
  splitMinutes,
  ticketActions,
  ticketCommands,
  canWithdrawDispatch,
  type TicketStatus,
  ticketQuery,
  toMoney,
  ticketStateFromSearch,
  ticketStateToSearch,
  type Sla,
} from "./logic";
import { ticketField } from "./TicketCreate";
import { pickerOptions } from "./CustomerPicker";
import type { Customer } from "../../api/types";

const NOW = new Date("2026-03-02T10:00:00Z");

function sla(over: Partial<Sla> = {}): Sla {
  return {
    ruleId: "r",
    ruleVersion: 1,
    calendar: "24x7",
    responseMinutes: 30,
    resolveMinutes: 240,
    responseDueAt: "2026-03-02T10:20:00Z",
    resolveDueAt: "2026-03-02T13:00:00Z",
    respondedAt: null,
    resolvedAt: null,
    pausedSince: null,
    pausedMinutes: 0,
    responseBreached: false,
    resolveBreached: false,
    escalationLevel: 0,
    escalation: [],
    ...over,
  };
}

describe("SLA state from the deadlines", () => {
  it("counts down a running deadline and warns in its last quarter (at most an hour)", () => {
    const s = slaState({ status: "acknowledged", sla: sla() }, NOW);
    expect(s.response).toEqual({ state: "running", dueAt: "2026-03-02T10:20:00Z", minutesLeft: 20 });
    expect(slaState({ status: "acknowledged", sla: sla({ responseDueAt: "2026-03-02T10:05:00Z" }) }, NOW).response.state).toBe("soon");
    expect(s.resolve).toEqual({ state: "running", dueAt: "2026-03-02T13:00:00Z", minutesLeft: 180 });
    expect(slaState({ status: "inProgress", sla: sla({ resolveDueAt: "2026-03-02T10:59:00Z" }) }, NOW).resolve.state).toBe("soon");
  });
  it("is breached past the deadline or when the server flagged it, and the row is highlighted", () => {
    const past = slaState({ status: "acknowledged", sla: sla({ responseDueAt: "2026-03-02T09:45:00Z" }) }, NOW);
    expect(past.response).toEqual({ state: "breached", dueAt: "2026-03-02T09:45:00Z", minutesLeft: -15 });
    expect(slaState({ status: "inProgress", sla: sla({ resolveBreached: true }) }, NOW).resolve.state).toBe("breached");
    expect(isBreached({ status: "inProgress", sla: sla({ resolveBreached: true }) }, NOW)).toBe(true);
    expect(isBreached({ status: "inProgress", sla: sla() }, NOW)).toBe(false);
  });
  it("is met or met late once done, paused while the customer is awaited, none without an SLA", () => {
    const done = slaState({ status: "resolved", sla: sla({ respondedAt: "2026-03-02T09:50:00Z", resolvedAt: "2026-03-02T13:30:00Z", resolveBreached: true }) }, NOW);
    expect(done.response.state).toBe("met");
    expect(done.resolve.state).toBe("late");
    expect(slaState({ status: "pending", sla: sla({ pausedSince: "2026-03-02T09:55:00Z" }) }, NOW).resolve.state).toBe("paused");
    expect(slaState({ status: "cancelled", sla: sla() }, NOW).resolve.state).toBe("stopped");
    expect(slaState({ status: "acknowledged", sla: null }, NOW).resolve).toEqual({ state: "none", dueAt: null, minutesLeft: null });
  });
  it("splits minutes into days, hours and minutes", () => {
    expect(splitMinutes(-(1440 * 2 + 185))).toEqual({ d: 2, h: 3, m: 5 });
  });
});

describe("ticket actions (TMF621 statuses and the closed loop)", () => {
  const tk = (status: "acknowledged" | "inProgress" | "pending" | "resolved" | "closed", ownerNode = "gd-gz") => ({ status, ownerNode, dispatch: null });
  it("offers the moves the API allows at the owner node", () => {
    expect(ticketActions(tk("acknowledged"), "gd-gz", true)).toEqual(
      ["inProgress", "pending", "resolved", "rejected", "cancelled"].map((to) => ({ kind: "move", to })),
    );
    expect(ticketActions(tk("pending"), "gd-gz", true)).toEqual([{ kind: "move", to: "inProgress" }, { kind: "move", to: "cancelled" }]);
    expect(ticketActions(tk("resolved"), "gd-gz", true)).toEqual([{ kind: "revisit" }]);
    expect(ticketActions(tk("closed"), "gd-gz", true)).toEqual([]);
  });
  it("offers nothing without write, at a replica or on a ticket dispatched elsewhere", () => {
    expect(ticketActions(tk("acknowledged"), "gd-gz", false)).toEqual([]);
    expect(ticketActions(tk("acknowledged"), "gd", true)).toEqual([]);
    const dispatched = { status: "acknowledged" as const, ownerNode: "hq", dispatch: { dispatchId: "d", reportedAtNode: null, dispatchedTo: "gd-gz", handlerTicketId: "h", handlerVersion: 1 } };
    expect(ticketActions(dispatched, "hq", true)).toEqual([]);
  });
  it("names the customer picker for a relatedParty error", () => {
    expect(ticketField("relatedParty")).toBe("customer");
    expect(ticketField("name")).toBe("name");
  });
});

describe("reassign and dispatch (改派, 派单)", () => {
  const tk = (status: "acknowledged" | "inProgress" | "pending" | "resolved" | "closed" | "cancelled", ownerNode = "gd") => ({ status, ownerNode, dispatch: null });
  it("reassigns until the ticket is finished, and dispatches an open ticket from a node with nodes below", () => {
    expect(ticketCommands(tk("acknowledged"), "gd", true, true)).toEqual(["reassign", "dispatch"]);
    expect(ticketCommands(tk("pending"), "gd", true, true)).toEqual(["reassign", "dispatch"]);
    expect(ticketCommands(tk("resolved"), "gd", true, true)).toEqual(["reassign"]);
    expect(ticketCommands(tk("closed"), "gd", true, true)).toEqual([]);
    expect(ticketCommands(tk("cancelled"), "gd", true, true)).toEqual([]);
    // a local network has no node below: no dispatch
    expect(ticketCommands(tk("inProgress", "gd-gz"), "gd-gz", true, false)).toEqual(["reassign"]);
  });
  it("offers neither without write, at a replica or once the ticket is dispatched", () => {
    expect(ticketCommands(tk("acknowledged"), "gd", false, true)).toEqual([]);
    expect(ticketCommands(tk("acknowledged", "gd-gz"), "gd", true, true)).toEqual([]);
    expect(ticketCommands(tk("acknowledged"), undefined, true, true)).toEqual([]);
    const dispatched = { status: "acknowledged" as const, ownerNode: "hq", dispatch: { dispatchId: "d", reportedAtNode: null, dispatchedTo: "gd-gz", handlerTicketId: "h", handlerVersion: 1 } };
    expect(ticketCommands(dispatched, "hq", true, true)).toEqual([]);
    // the handler's ticket (dispatched here from above) is this node's own: it may be reassigned
    const handled = { status: "acknowledged" as const, ownerNode: "gd-gz", dispatch: { dispatchId: "d", reportedAtNode: "hq", dispatchedTo: null, handlerTicketId: null, handlerVersion: 0 } };
    expect(ticketCommands(handled, "gd-gz", true, false)).toEqual(["reassign"]);
  });
  it("builds the assign body per mode: named handler (optionally under a queue), a queue's rule, or the rule again", () => {
    expect(assignBody({ mode: "handler", handler: " agent ", queueId: "q1", reason: " 客户要求 " })).toEqual({ handler: "agent", queueId: "q1", reason: "客户要求" });
    expect(assignBody({ mode: "queue", queueId: "q1", handler: "ignored" })).toEqual({ queueId: "q1" });
    expect(assignBody({ mode: "rule", queueId: "q1", handler: "x", reason: "" })).toEqual({});
  });
});

describe("care and expert actions", () => {
  it("moves a care activity as the API allows, only at its owner node with write", () => {
    expect(careMoves({ status: "PROPOSED", ownerNode: "gd-gz" }, "gd-gz", true)).toEqual(["PLANNED", "DONE", "CANCELLED"]);
    expect(careMoves({ status: "PLANNED", ownerNode: "gd-gz" }, "gd-gz", true)).toEqual(["DONE", "CANCELLED"]);
    expect(careMoves({ status: "DONE", ownerNode: "gd-gz" }, "gd-gz", true)).toEqual([]);
    expect(careMoves({ status: "PLANNED", ownerNode: "gd-gz" }, "gd", true)).toEqual([]);
    expect(careMoves({ status: "PLANNED", ownerNode: "gd-gz" }, "gd-gz", false)).toEqual([]);
  });
  it("sends a cost as CNY money with at most two decimals, none when empty", () => {
    expect(toMoney(300)).toEqual({ value: "300", unit: "CNY" });
    expect(toMoney("88.5")).toEqual({ value: "88.5", unit: "CNY" });
    expect(toMoney("")).toBeNull();
    expect(toMoney(null)).toBeNull();
    expect(() => toMoney("-5")).toThrow();
    expect(() => toMoney("1.234")).toThrow();
  });
  it("offers an expert request's steps by status and permission, the outcome to its own expert", () => {
    const all = { read: true, write: true, request: true };
    const am = { read: true, write: false, request: true };
    const expertOnly = { read: true, write: false, request: false };
    const r = (status: "REQUESTED" | "ASSIGNED" | "ANSWERED" | "CLOSED", expert: string | null = null, ownerNode = "gd-gz") => ({
      status, ownerNode, expert: expert ? { id: expert, name: null, role: "expert" } : null,
    });
    expect(expertActions(r("REQUESTED"), "gd-gz", all, new Set())).toEqual(["assign", "cancel"]);
    expect(expertActions(r("ASSIGNED", "e1"), "gd-gz", all, new Set())).toEqual(["assign", "outcome", "cancel"]);
    expect(expertActions(r("ANSWERED", "e1"), "gd-gz", all, new Set())).toEqual(["assign", "close"]);
    expect(expertActions(r("CLOSED", "e1"), "gd-gz", all, new Set())).toEqual([]);
    expect(expertActions(r("ASSIGNED", "e1"), "gd-gz", am, new Set())).toEqual(["cancel"]);
    expect(expertActions(r("ASSIGNED", "e1"), "gd-gz", expertOnly, new Set(["e1"]))).toEqual(["outcome"]);
    expect(expertActions(r("ASSIGNED", "e1"), "gd-gz", expertOnly, new Set(["e2"]))).toEqual([]);
    expect(expertActions(r("REQUESTED"), "gd", all, new Set())).toEqual([]);
  });
});

describe("customer picker", () => {
  it("keeps a picked customer's label when a later search leaves it out", () => {
    const c = (id: string, name: string) => ({ id, name, customerCode: `C-${id}`, grade: "A" }) as unknown as Customer;
    const seen = new Map([["1", c("1", "广州地铁")]]);
    expect(pickerOptions([c("2", "南方电网")], ["1", "2", "9"], seen)).toEqual([
      { value: "2", label: "南方电网 · C-2 · A" },
      { value: "1", label: "广州地铁 · C-1 · A" },
      { value: "9", label: "9" },
    ]);
    expect(pickerOptions([c("2", "南方电网")], "2", seen)).toEqual([{ value: "2", label: "南方电网 · C-2 · A" }]);
  });
});

describe("ticket list query", () => {
  it("turns the list state into TMF630 parameters and back", () => {
    const state = { page: 2, pageSize: 50, q: " 断网 ", status: ["acknowledged", "inProgress"], ticketType: ["FAULT"], priority: [], breached: true, ownerNode: "gd-gz", customerGrade: "A", createdFrom: "2026-03-01T00:00:00.000Z", createdTo: "2026-03-02T00:00:00.000Z" };
    expect(ticketQuery(state)).toEqual({
      offset: 50, limit: 50, sort: "-creationDate", q: "断网", status: "acknowledged,inProgress", ticketType: "FAULT", "sla.resolveBreached": true,
      ownerNode: "gd-gz", customerGrade: "A", "creationDate.gte": "2026-03-01T00:00:00.000Z", "creationDate.lt": "2026-03-02T00:00:00.000Z",
    });
    expect(ticketStateFromSearch(ticketStateToSearch(state))).toEqual({ ...state, q: " 断网 " });
    expect(ticketStateFromSearch(new URLSearchParams("page=-1&pageSize=5000"))).toMatchObject({ page: 1, pageSize: 100 });
  });
});

describe("knowledge", () => {
  it("turns a highlight into text segments, unescaping the server's entities", () => {
    expect(highlightSegments("光纤 <em>专线</em> &lt;b&gt; &amp; <em>SLA</em>")).toEqual([
      { text: "光纤 ", hit: false },
      { text: "专线", hit: true },
      { text: " <b> & ", hit: false },
      { text: "SLA", hit: true },
    ]);
  });
  it("offers review to another person than the author and writes only at the owner", () => {
    const me = { user: "admin", node: "gd" };
    const all = { write: true, review: true };
    expect(knowledgeActions({ status: "draft", ownerNode: "gd", author: "admin@gd-gz" }, me, all)).toEqual(["edit", "review", "retire"]);
    expect(knowledgeActions({ status: "draft", ownerNode: "gd", author: "admin@gd" }, me, all)).toEqual(["edit", "retire"]);
    expect(knowledgeActions({ status: "reviewed", ownerNode: "gd", author: "x@gd" }, me, all)).toEqual(["publish", "retire"]);
    expect(knowledgeActions({ status: "published", ownerNode: "gd", author: "x@gd" }, me, all)).toEqual(["revise", "retire"]);
    expect(knowledgeActions({ status: "published", ownerNode: "hq", author: "x@hq" }, me, all)).toEqual([]);
    expect(knowledgeActions({ status: "draft", ownerNode: "gd", author: "x@gd" }, me, { write: false, review: false })).toEqual([]);
  });
});

describe("service menu", () => {
  const claims = (perms: string[]) => ({ sub: "u", node: "gd-gz", scope_node: "gd-gz", roles: [], perms, exp: 2e9 });
  it("shows each service entry only with its permission", () => {
    const service = (perms: string[]) => visibleScreens(claims(perms), SCREENS).find((s) => s.key === "service");
    expect(service([])).toBeUndefined();
    expect(service(["service.ticket:read", "service.knowledge:read"])?.children?.map((c) => c.key)).toEqual(["tickets", "quality", "knowledge"]);
    expect(service(["*"])?.children?.map((c) => c.key)).toEqual(["tickets", "quality", "knowledge", "documents", "care", "experts"]);
  });
});

describe("canWithdrawDispatch", () => {
  const sent = (status: TicketStatus, handlerVersion: number) => ({
    status,
    ownerNode: "hq",
    dispatch: { dispatchId: null, reportedAtNode: null, dispatchedTo: "gd-gz", handlerTicketId: "h", handlerVersion },
  });
  it("is offered at the reporter until the handler starts", () => {
    expect(canWithdrawDispatch(sent("inProgress", 0), "hq", true)).toBe(true); // nothing back yet
    expect(canWithdrawDispatch(sent("acknowledged", 1), "hq", true)).toBe(true);
    expect(canWithdrawDispatch(sent("inProgress", 2), "hq", true)).toBe(false);
  });
  it("is not offered elsewhere, without the permission or when not dispatched", () => {
    expect(canWithdrawDispatch(sent("acknowledged", 1), "gd", true)).toBe(false);
    expect(canWithdrawDispatch(sent("acknowledged", 1), "hq", false)).toBe(false);
    expect(canWithdrawDispatch({ status: "acknowledged", ownerNode: "hq", dispatch: null }, "hq", true)).toBe(false);
  });
});
