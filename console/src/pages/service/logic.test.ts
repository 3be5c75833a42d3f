import { describe, expect, it } from "vitest";
import { SCREENS, visibleScreens } from "../../modules";
import {
  highlightSegments,
  isBreached,
  knowledgeActions,
  slaState,
  splitMinutes,
  ticketActions,
  ticketQuery,
  ticketStateFromSearch,
  ticketStateToSearch,
  type Sla,
} from "./logic";
import { ticketField } from "./TicketCreate";

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

describe("ticket list query", () => {
  it("turns the list state into TMF630 parameters and back", () => {
    const state = { page: 2, pageSize: 50, q: " 断网 ", status: ["acknowledged", "inProgress"], ticketType: ["FAULT"], priority: [], breached: true };
    expect(ticketQuery(state)).toEqual({
      offset: 50, limit: 50, sort: "-creationDate", q: "断网", status: "acknowledged,inProgress", ticketType: "FAULT", "sla.resolveBreached": true,
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
    expect(service(["service.ticket:read", "service.knowledge:read"])?.children?.map((c) => c.key)).toEqual(["tickets", "knowledge"]);
    expect(service(["*"])?.children?.map((c) => c.key)).toEqual(["tickets", "knowledge", "documents", "care", "experts"]);
  });
});
