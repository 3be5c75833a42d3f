import dayjs from "dayjs";
import { describe, expect, it } from "vitest";
import {
  bucketByDay,
  campaignActions,
  canEditCampaign,
  canDrill,
  canWorkTarget,
  closeRange,
  completionTotal,
  duplicateContacts,
  drillInto,
  drillUp,
  followUpPatch,
  isLeaf,
  leadMoves,
  monthWindow,
  periodRange,
  removeFromChain,
  responseMoves,
  segmentFilter,
  segmentRows,
  setChainRole,
  type ChainLink,
} from "./marketing";

const author = { sub: "am01", node: "gd-gz", perms: ["sales.campaign:read", "sales.campaign:write", "sales.campaign:approve"] };
const manager = { sub: "ka_mgr", node: "gd-gz", perms: ["sales.campaign:read", "sales.campaign:write", "sales.campaign:approve"] };

describe("campaignActions", () => {
  const draft = { status: "draft", ownerNode: "gd-gz", createdBy: "am01" };
  it("offers approve of a draft only to someone other than its author", () => {
    expect(campaignActions(draft, author)).toEqual([]);
    expect(campaignActions(draft, manager)).toEqual(["approve"]);
    expect(campaignActions(draft, { ...manager, perms: ["sales.campaign:write"] })).toEqual([]);
  });
  it("offers launch of an approved one and close of a running one with write, none of a closed one", () => {
    expect(campaignActions({ ...draft, status: "approved" }, author)).toEqual(["launch"]);
    expect(campaignActions({ ...draft, status: "running" }, author)).toEqual(["close"]);
    expect(campaignActions({ ...draft, status: "closed" }, author)).toEqual([]);
    expect(campaignActions({ ...draft, status: "running" }, { ...author, perms: ["sales.campaign:read"] })).toEqual([]);
  });
  it("offers nothing away from the author node (409 NOT_OWNER there) or signed out", () => {
    expect(campaignActions({ ...draft, status: "approved" }, { ...author, node: "gd" })).toEqual([]);
    expect(campaignActions(draft, { ...manager, node: "hq" })).toEqual([]);
    expect(campaignActions(draft, null)).toEqual([]);
  });
  it("takes * for every permission", () => {
    expect(campaignActions(draft, { sub: "admin", node: "gd-gz", perms: ["*"] })).toEqual(["approve"]);
  });
});

describe("targets", () => {
  it("allows the response moves of the API; converted is final", () => {
    expect(responseMoves("none")).toEqual(["interested", "notInterested", "converted"]);
    expect(responseMoves("interested")).toEqual(["notInterested", "converted"]);
    expect(responseMoves("notInterested")).toEqual(["interested", "converted"]);
    expect(responseMoves("converted")).toEqual([]);
  });
  it("is worked only at the customer's node while the campaign runs", () => {
    const claims = { node: "gd-gz", perms: ["sales.opportunity:write"] };
    expect(canWorkTarget({ node: "gd-gz" }, { status: "running" }, claims)).toBe(true);
    expect(canWorkTarget({ node: "gd-sz" }, { status: "running" }, claims)).toBe(false);
    expect(canWorkTarget({ node: "gd-gz" }, { status: "closed" }, claims)).toBe(false);
    expect(canWorkTarget({ node: "gd-gz" }, { status: "running" }, { node: "gd-gz", perms: ["sales.opportunity:read"] })).toBe(false);
  });
  it("keeps a segment's filled rows only", () => {
    expect(segmentFilter([{ key: "grade", value: " A,B " }, { key: "industry", value: "" }, { value: "x" }])).toEqual({ grade: "A,B" });
    expect(segmentFilter(undefined)).toEqual({});
  });
});

describe("drill-down path", () => {
  it("goes one level deeper on a child, stays on the node's own line", () => {
    expect(drillInto(["hq"], "gd")).toEqual(["hq", "gd"]);
    expect(drillInto(["hq", "gd"], "gd-gz")).toEqual(["hq", "gd", "gd-gz"]);
    expect(drillInto(["hq", "gd"], "gd")).toEqual(["hq", "gd"]);
    expect(drillInto(["hq", "gd", "gd-gz"], "hq")).toEqual(["hq"]);
  });
  it("goes back up to a breadcrumb", () => {
    expect(drillUp(["hq", "gd", "gd-gz"], 0)).toEqual(["hq"]);
    expect(drillUp(["hq", "gd", "gd-gz"], 1)).toEqual(["hq", "gd"]);
    expect(drillUp(["hq", "gd"], 5)).toEqual(["hq", "gd"]);
  });
  it("drills into a child's line only, and a node without children's lines is a leaf", () => {
    expect(canDrill("gd", "hq")).toBe(true);
    expect(canDrill("hq", "hq")).toBe(false);
    expect(canDrill(null, "hq")).toBe(false);
    expect(isLeaf([{ node: "gd-gz" }, { node: "gd-gz" }], "gd-gz")).toBe(true);
    expect(isLeaf([{ node: "gd" }, { node: "gd-gz" }], "gd")).toBe(false);
    expect(isLeaf([], "gd-gz")).toBe(true);
  });
});

describe("periods", () => {
  it("gives a month and a quarter as [start, end)", () => {
    expect(periodRange("month", "2026-12-15")).toEqual({ start: "2026-12-01", end: "2027-01-01" });
    expect(periodRange("quarter", "2026-11-30")).toEqual({ start: "2026-10-01", end: "2027-01-01" });
    expect(periodRange("quarter", "2026-01-01")).toEqual({ start: "2026-01-01", end: "2026-04-01" });
    expect(periodRange("quarter", "2026-06-30")).toEqual({ start: "2026-04-01", end: "2026-07-01" });
  });
});

describe("kanban close-date range", () => {
  it("sends the picked days as [start, day after end), nothing without a pick", () => {
    expect(closeRange([dayjs("2026-12-01"), dayjs("2026-12-31")])).toEqual({ start: "2026-12-01", end: "2027-01-01" });
    expect(closeRange(null)).toEqual({});
  });
});

describe("visit calendar", () => {
  it("buckets visits by the local day of their planned time, in time order", () => {
    const at = (d: number, h: number) => new Date(2026, 11, d, h, 30).toISOString();
    const visits = [
      { id: "b", plannedAt: at(3, 15) },
      { id: "a", plannedAt: at(3, 9) },
      { id: "c", plannedAt: at(4, 0) },
      { id: "d", plannedAt: at(2, 23) },
    ];
    const days = bucketByDay(visits);
    expect([...days.keys()].sort()).toEqual(["2026-12-02", "2026-12-03", "2026-12-04"]);
    expect(days.get("2026-12-03")?.map((v) => v.id)).toEqual(["a", "b"]);
    expect(days.get("2026-12-02")?.map((v) => v.id)).toEqual(["d"]);
  });
  it("queries the month shown from its first local midnight to the next month's", () => {
    const w = monthWindow(dayjs(new Date(2026, 11, 17, 14)));
    expect(dayjs(w["plannedAt.gte"]).valueOf()).toBe(new Date(2026, 11, 1).getTime());
    expect(dayjs(w["plannedAt.lt"]).valueOf()).toBe(new Date(2027, 0, 1).getTime());
    expect(w["plannedAt.gte"]).toMatch(/[+-]\d\d:\d\d$|Z$/); // an offset: the API takes aware times only
  });
});

describe("decision chain", () => {
  const chain: ChainLink[] = [
    { contactId: "c1", name: "张总", role: "decisionMaker" },
    { contactId: "c2", name: "李工", role: "user" },
  ];
  it("gives a contact one role: a new role replaces the old one in place", () => {
    const next = setChainRole(chain, { contactId: "c2", name: "李工", role: "influencer" });
    expect(next).toEqual([
      { contactId: "c1", name: "张总", role: "decisionMaker" },
      { contactId: "c2", name: "李工", role: "influencer" },
    ]);
    expect(duplicateContacts(next)).toEqual([]);
  });
  it("appends a new contact and removes one", () => {
    const next = setChainRole(chain, { contactId: "c3", role: "user" });
    expect(next.map((l) => l.contactId)).toEqual(["c1", "c2", "c3"]);
    expect(removeFromChain(next, "c1").map((l) => l.contactId)).toEqual(["c2", "c3"]);
  });
  it("finds a contact named twice", () => {
    expect(duplicateContacts([...chain, { contactId: "c1", role: "user" }])).toEqual(["c1"]);
  });
  it("sends the next follow-up with its offset and the note only when given", () => {
    const at = dayjs(new Date(2026, 11, 20, 10));
    expect(followUpPatch(at, "  ").nextFollowUp).toEqual({ at: at.format() });
    expect(followUpPatch(at, " 送方案 ").nextFollowUp.note).toBe("送方案");
    expect(dayjs(followUpPatch(at).nextFollowUp.at).valueOf()).toBe(at.valueOf());
  });
});

describe("leads", () => {
  it("moves a lead as the API allows; a closed lead not at all", () => {
    expect(leadMoves("new")).toEqual(["qualified", "rejected"]);
    expect(leadMoves("qualified")).toEqual(["new", "rejected"]);
    expect(leadMoves("converted")).toEqual([]);
    expect(leadMoves("rejected")).toEqual([]);
  });
});

describe("visit completion", () => {
  it("adds the node's own and its children's lines up", () => {
    expect(completionTotal([{ planned: 3, done: 1 }, { planned: 5, done: 4 }])).toEqual({ planned: 8, done: 5, rate: "62.50" });
    expect(completionTotal([{ planned: 0, done: 0 }])).toEqual({ planned: 0, done: 0, rate: null });
  });
});

describe("canEditCampaign", () => {
  const draft = { status: "draft", ownerNode: "gd-gz" };
  it("offers the edit of a draft at its author node with write", () => {
    expect(canEditCampaign(draft, author)).toBe(true);
    expect(canEditCampaign(draft, { ...author, perms: ["*"] })).toBe(true);
  });
  it("offers no edit once approved, at another node, without write or signed out", () => {
    for (const status of ["approved", "running", "closed"]) expect(canEditCampaign({ ...draft, status }, author)).toBe(false);
    expect(canEditCampaign(draft, { ...author, node: "gd" })).toBe(false);
    expect(canEditCampaign(draft, { ...author, perms: ["sales.campaign:read", "sales.campaign:approve"] })).toBe(false);
    expect(canEditCampaign(draft, null)).toBe(false);
  });
});

describe("segmentRows", () => {
  it("turns a saved filter into the form's rows in the attributes' order, segmentFilter's inverse", () => {
    const filter = { industry: "金融", grade: "A,B", zzz: "x" };
    const rows = segmentRows(filter);
    expect(rows).toEqual([
      { key: "grade", value: "A,B" },
      { key: "industry", value: "金融" },
      { key: "zzz", value: "x" },
    ]);
    expect(segmentFilter(rows)).toEqual(filter);
    expect(segmentRows(undefined)).toEqual([]);
  });
});
