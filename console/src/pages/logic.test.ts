import { describe, expect, it } from "vitest";
import type { Designation, OrgNode } from "../api/types";
import { buildTree, subtreeCodes } from "../components/nodes";
import { SCREENS, visibleScreens } from "../modules";
import { mergePatch } from "./customers/CustomerForm";
import { changeLines } from "./customers/Customer360";
import { fromSearch, toQuery, toSearch } from "./customers/query";
import { deadLetterCount, totalLag } from "./federation";
import { safeReturnPath } from "./login";
import { nextSteps } from "./admin/RulesPage";
import { answersFor } from "./national";
import { awaitingAnswer } from "./workbench";

const claims = (perms: string[]) => ({ sub: "u", node: "gd", scope_node: "gd", roles: [], perms, exp: 2e9 });

describe("customer list query", () => {
  it("turns the list state into TMF630 parameters and back", () => {
    const state = { page: 3, pageSize: 50, q: " 银行 ", filters: { grade: ["A", "B"], industry: [], ownerNode: ["gd-gz"] }, sort: { field: "name", desc: true } };
    expect(toQuery(state)).toEqual({ offset: 100, limit: 50, q: "银行", grade: "A,B", ownerNode: "gd-gz", sort: "-name" });
    const back = fromSearch(toSearch(state));
    expect(back.page).toBe(3);
    expect(back.filters).toEqual({ grade: ["A", "B"], ownerNode: ["gd-gz"] });
    expect(back.sort).toEqual({ field: "name", desc: true });
  });
  it("bounds the page size and page", () => {
    const s = fromSearch(new URLSearchParams("page=-4&pageSize=99999"));
    expect(s.page).toBe(1);
    expect(s.pageSize).toBe(1000);
  });
});

describe("merge patch of an edit", () => {
  it("sends changed keys only; a cleared optional field is null", () => {
    expect(mergePatch({ name: "甲", address: "广州", grade: "B" }, { name: "甲", address: "", grade: "A", shortName: undefined })).toEqual({ address: null, grade: "A" });
  });
});

describe("change history", () => {
  it("shows old → new per field", () => {
    expect(changeLines({ grade: ["B", "A"], address: [null, "广州"] })).toEqual(["grade: B → A", "address: ∅ → 广州"]);
    expect(changeLines(null)).toEqual([]);
  });
});

describe("menu by permission", () => {
  it("offers nothing the API would refuse", () => {
    const keys = (perms: string[]) => visibleScreens(claims(perms)).map((s) => s.key);
    expect(keys([])).toEqual(["workbench"]);
    expect(keys(["customer:read"])).toEqual(["workbench", "customers", "national", "dashboard"]);
    expect(keys(["sync:read", "org.role:read"])).toEqual(["workbench", "federation", "admin"]);
    // the notification centre: for a user of a service that delivers notifications
    expect(keys(["sales.agreement:read"])).toEqual(["workbench", "sales", "notifications"]);
    const admin = visibleScreens(claims(["org.role:read"])).find((s) => s.key === "admin");
    expect(admin?.children?.map((c) => c.key)).toEqual(["roles"]);
    expect(visibleScreens(claims(["*"])).length).toBe(SCREENS.length);
  });
});

describe("national list", () => {
  const d = (over: Partial<Designation>): Designation =>
    ({ id: "1", status: "ACTIVE", ownerNode: "hq", responses: [], customer: { id: "c", name: "n", customerCode: "x", ownerNode: "gd-gz" }, ...over }) as Designation;
  it("lists what this node has not answered", () => {
    const answered = d({ id: "2", responses: [{ node: "gd" } as Designation["responses"][0]] });
    expect(awaitingAnswer([d({}), answered, d({ id: "3", status: "WITHDRAWN" })], "gd").map((x) => x.id)).toEqual(["1"]);
    expect(awaitingAnswer([d({})], "hq")).toEqual([]);
  });
  it("offers the answers the tier may give", () => {
    expect(answersFor("group")).toEqual([]);
    expect(answersFor("province")).toEqual(["ACKNOWLEDGED", "DISPUTED"]);
    expect(answersFor("local")).toEqual(["ASSIGNED"]);
  });
});

describe("federation", () => {
  it("sums the lag of every source and the dead letters", () => {
    const s = { node: "gd", state: "ok", streams: [{ name: "a", sources: [{ lag: 2 }, { lag: 3 }] }, { name: "b" }], deadLetters: { customer: 1, org: 2 } } as never;
    expect(totalLag(s)).toBe(5);
    expect(deadLetterCount(s)).toBe(3);
  });
  it("builds the node tree", () => {
    const n = (code: string, parent: string | null) => ({ id: code, code, parent, tier: "local", nameZh: code, nameEn: code }) as OrgNode;
    const nodes = [n("hq", null), n("gd", "hq"), n("gd-gz", "gd"), n("gd-sz", "gd"), n("js", "hq")];
    const tree = buildTree(nodes);
    expect(tree.map((t) => t.node.code)).toEqual(["hq"]);
    expect(tree[0]?.children.map((t) => t.node.code)).toEqual(["gd", "js"]);
    expect(subtreeCodes(nodes, "gd").sort()).toEqual(["gd", "gd-gz", "gd-sz"]);
  });
});

describe("login", () => {
  it("returns only to a path of this console", () => {
    expect(safeReturnPath("/customers?q=1")).toBe("/customers?q=1");
    expect(safeReturnPath("//evil.example/x")).toBe("/workbench");
    expect(safeReturnPath("https://evil.example")).toBe("/workbench");
    expect(safeReturnPath("/login?from=x")).toBe("/workbench");
    expect(safeReturnPath(null)).toBe("/workbench");
  });
});

describe("rules", () => {
  it("offers draft → approve → publish, and retire before retired", () => {
    expect(nextSteps("DRAFT")).toEqual(["approve", "retire"]);
    expect(nextSteps("APPROVED")).toEqual(["publish", "retire"]);
    expect(nextSteps("PUBLISHED")).toEqual(["retire"]);
    expect(nextSteps("RETIRED")).toEqual([]);
  });
});
