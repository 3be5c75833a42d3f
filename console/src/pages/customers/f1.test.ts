import { describe, expect, it } from "vitest";
import type { Claims } from "../../auth/session";
import { changeLines, enumValue } from "./changes";
import { canBulkVerify, canMerge, canVerify, decisionGraph, differingAttributes, mergeChoices, mergeMode, needsPatch, proposalActions, splitProducts, type DecisionMap, type ProposalSide } from "./f1";

const claims = (perms: string[]): Claims => ({ sub: "u", node: "gd", scope_node: "gd", roles: [], perms, exp: 4102444800 });

const contact = (id: string, role: string | null, fullName = id) => ({ id, fullName, title: null, department: null, decisionRole: role });
const relation = (id: string, from: string, to: string, type: "REPORTS_TO" | "INFLUENCES" | "ALLY" | "OPPONENT") => ({
  "@type": "ContactRelation" as const,
  id,
  href: `/r/${id}`,
  fromContactId: from,
  toContactId: to,
  relationType: type,
  note: null,
  ownerNode: "gd-gz",
  version: 1,
});

describe("decision graph from relations", () => {
  const map: Pick<DecisionMap, "contacts" | "relations"> = {
    contacts: [contact("a", "DECISION_MAKER", "张总"), contact("b", "INFLUENCER"), contact("c", null)],
    relations: [relation("r1", "b", "a", "REPORTS_TO"), relation("r2", "a", "b", "INFLUENCES"), relation("r3", "c", "a", "OPPONENT"), relation("r4", "a", "gone", "ALLY")],
  };
  it("has one node per contact, categorised by decision role, a decision maker drawn larger", () => {
    const { nodes } = decisionGraph(map);
    expect(nodes.map((n) => [n.id, n.name, n.category])).toEqual([
      ["a", "张总", 0],
      ["b", "b", 1],
      ["c", "c", 3],
    ]);
    expect(nodes[0]?.symbolSize).toBeGreaterThan(nodes[1]?.symbolSize ?? 0);
  });
  it("has one directed link per relation between contacts of the map, labelled by its type", () => {
    const { links } = decisionGraph(map, (x) => `L:${x}`);
    expect(links.map((l) => [l.source, l.target, l.relationType, l.label.formatter])).toEqual([
      ["b", "a", "REPORTS_TO", "L:REPORTS_TO"],
      ["a", "b", "INFLUENCES", "L:INFLUENCES"],
      ["c", "a", "OPPONENT", "L:OPPONENT"],
    ]);
  });
  it("curves the two directions of a cycle apart and dashes an opponent", () => {
    const { links } = decisionGraph(map);
    expect(links[0]?.lineStyle.curveness).not.toEqual(links[1]?.lineStyle.curveness);
    expect(links[2]?.lineStyle.type).toBe("dashed");
    expect(links[0]?.lineStyle.type).toBe("solid");
  });
  it("is empty for a customer without contacts", () => {
    expect(decisionGraph({ contacts: [], relations: [] })).toEqual({ nodes: [], links: [] });
  });
});

describe("needs profile patch", () => {
  it("sends changed answers only, a cleared one as null", () => {
    const before = { networkSituation: "专线 2 条", latentNeeds: "云专网" };
    expect(needsPatch(before, { networkSituation: "专线 2 条", latentNeeds: "  ", businessScope: "制造" })).toEqual({ latentNeeds: null, businessScope: "制造" });
  });
  it("writes a first profile from nothing", () => {
    expect(needsPatch(null, { decisionProcess: "三重一大" })).toEqual({ decisionProcess: "三重一大" });
    expect(needsPatch(null, { decisionProcess: "" })).toEqual({});
  });
});

describe("competitor products", () => {
  it("splits on commas and 、, trims and drops repeats", () => {
    expect(splitProducts("天翼云、 专线,专线，IDC\n")).toEqual(["天翼云", "专线", "IDC"]);
    expect(splitProducts(undefined)).toEqual([]);
  });
});

describe("what is offered", () => {
  it("offers verify only at the verifying node with the permission", () => {
    const v = { verifierNode: "gd" };
    expect(canVerify(claims(["customer.verification:write"]), "gd", v)).toBe(true);
    expect(canVerify(claims(["*"]), "gd", v)).toBe(true);
    expect(canVerify(claims(["customer.verification:write"]), "gd-gz", v)).toBe(false);
    expect(canVerify(claims(["customer:update"]), "gd", v)).toBe(false);
    expect(canVerify(claims(["*"]), "gd", { verifierNode: null })).toBe(false);
  });
  it("offers bulk verification at a province with the permission", () => {
    expect(canBulkVerify(claims(["customer.verification:write"]), "province")).toBe(true);
    expect(canBulkVerify(claims(["customer.verification:write"]), "local")).toBe(false);
    expect(canBulkVerify(claims(["customer:read"]), "province")).toBe(false);
  });
  it("offers a merge only of an open pair owned here, with the permission", () => {
    const pair = { ownerA: "gd-gz", ownerB: "gd-gz", status: "OPEN" as const };
    expect(canMerge(claims(["customer:merge"]), "gd-gz", pair)).toBe(true);
    expect(canMerge(claims(["customer:read"]), "gd-gz", pair)).toBe(false);
    expect(canMerge(claims(["customer:merge"]), "gd-gz", { ...pair, ownerB: "js-nj" })).toBe(false);
    expect(canMerge(claims(["customer:merge"]), "hq", pair)).toBe(false);
    expect(canMerge(claims(["customer:merge"]), "gd-gz", { ...pair, status: "DISMISSED" })).toBe(false);
  });
  it("proposes a merge across owner nodes from a node above both, and nowhere else", () => {
    const pair = { ownerA: "gd-gz", ownerB: "js-nj", status: "OPEN" as const };
    const may = claims(["customer:merge"]);
    expect(mergeMode(may, "hq", "group", pair)).toBe("propose");
    expect(mergeMode(may, "gd-gz", "local", pair)).toBeNull(); // a local network is nobody's ancestor
    expect(mergeMode(may, "gd", "province", { ...pair, ownerA: "gd" })).toBe("propose"); // owning one side
    expect(mergeMode(may, "gd-sz", "local", pair)).toBeNull(); // a local network is above nobody
    expect(mergeMode(claims(["customer:read"]), "hq", "group", pair)).toBeNull();
    expect(mergeMode(may, "hq", "group", { ...pair, status: "MERGED" })).toBeNull();
    expect(mergeMode(may, "gd-gz", "local", { ...pair, ownerB: "gd-gz" })).toBe("merge");
  });
  it("lets an owner answer only its own pending side, and the proposer withdraw", () => {
    const side = (node: string, status: ProposalSide["status"]): ProposalSide => ({ node, customerIds: ["c"], holdsSurvivor: false, status, reason: null, mergeId: null, respondedBy: null, updatedAt: null });
    const p = { state: "PENDING" as const, ownerNode: "hq", sides: [side("gd-gz", "PENDING"), side("js-nj", "ACCEPTED")] };
    const may = claims(["customer:merge"]);
    expect(proposalActions(may, "gd-gz", p)).toEqual({ answer: p.sides[0], withdraw: false });
    expect(proposalActions(may, "js-nj", p)).toEqual({ answer: null, withdraw: false }); // answered already
    expect(proposalActions(may, "hq", p)).toEqual({ answer: null, withdraw: true });
    expect(proposalActions(may, "hq", { ...p, state: "MERGED" })).toEqual({ answer: null, withdraw: false });
    expect(proposalActions(claims(["customer:read"]), "gd-gz", p)).toEqual({ answer: null, withdraw: false });
  });
});

describe("merge choices", () => {
  it("lists the attributes that differ", () => {
    expect(differingAttributes({ name: "甲", address: null, grade: "A", creditCode: "9144" }, { name: "甲公司", address: "", grade: "A", creditCode: "9144" })).toEqual(["name"]);
  });
  it("sends only the attributes taken from the victim", () => {
    expect(mergeChoices("s", { name: "v", grade: "s", address: "v" })).toEqual({ name: "v", address: "v" });
  });
});

describe("change history", () => {
  const t = ((key: string, o?: { defaultValue?: string }) => ({ "enum.grade.A": "A 钻石", "enum.grade.B": "B 金", "enum.industry.FINANCE": "金融" })[key] ?? o?.defaultValue ?? key) as never;
  it("shows enum codes as their labels", () => {
    expect(changeLines({ grade: ["B", "A"], industry: [null, "FINANCE"], name: ["甲", "乙"] }, (f) => f, enumValue(t))).toEqual(["grade: B 金 → A 钻石", "industry: ∅ → 金融", "name: 甲 → 乙"]);
  });
});
