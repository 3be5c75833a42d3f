import { describe, expect, it } from "vitest";
import type { Claims } from "../auth/session";
import { inboxesFor, mergeNewest, subjectLink, type InboxItem } from "./inbox";

const item = (id: string, createdAt: string, service = "sales"): InboxItem => ({
  id,
  href: "",
  kind: "k",
  title: id,
  text: "",
  subject: { id: "x", "@referredType": "Agreement" },
  read: false,
  createdAt,
  service,
});

describe("inbox", () => {
  it("reads the inboxes of the services the user holds a permission of", () => {
    const claims = { perms: ["sales.agreement:read", "customer:read"] } as unknown as Claims;
    expect(inboxesFor(claims).map((i) => i.service)).toEqual(["sales"]);
    expect(inboxesFor({ perms: ["*"] } as unknown as Claims).map((i) => i.service)).toEqual(["sales", "service"]);
    expect(inboxesFor(null)).toEqual([]);
  });

  it("merges the inboxes newest first", () => {
    const merged = mergeNewest([
      [item("a", "2027-01-03T00:00:00Z"), item("b", "2027-01-01T00:00:00Z")],
      [item("c", "2027-01-02T00:00:00Z", "service")],
    ]);
    expect(merged.map((n) => n.id)).toEqual(["a", "c", "b"]);
  });

  it("links a notification to its subject's screen", () => {
    expect(subjectLink({ subject: { id: "7", "@referredType": "TroubleTicket" } })).toBe("/service/tickets/7");
    expect(subjectLink({ subject: { id: "7", "@referredType": "Agreement" } })).toBe("/sales/contracts/7");
    expect(subjectLink({ subject: { id: "7", "@referredType": "Unknown" } })).toBeNull();
  });
});
