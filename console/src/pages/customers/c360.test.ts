import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/errors";
import type { Claims } from "../../auth/session";
import { STATUSES } from "../service/logic";
import {
  checkUpload,
  contentNotice,
  daysToExpiry,
  detailPath,
  ENDED_TICKET_STATUSES,
  expiryState,
  localDay,
  MAX_DOCUMENT_BYTES,
  OPEN_TICKET_STATUSES,
  previewKind,
  uploadContentType,
  uploadProblem,
  visiblePanels,
} from "./c360";

const claims = (perms: string[]): Claims => ({ sub: "u", node: "gd-gz", scope_node: "gd-gz", roles: [], perms, exp: 0 });

describe("panel visibility by permission", () => {
  it("shows nothing without a session or without the read permissions", () => {
    expect(visiblePanels(null)).toEqual([]);
    expect(visiblePanels(claims(["customer:read", "service.ticket:write", "sales.opportunity:write"]))).toEqual([]);
  });
  it("shows each panel for its own read permission", () => {
    expect(visiblePanels(claims(["sales.opportunity:read"]))).toEqual(["opportunities", "visits"]);
    expect(visiblePanels(claims(["sales.agreement:read", "service.document:read"]))).toEqual(["contracts", "documents"]);
    expect(visiblePanels(claims(["sales.campaign:read", "service.ticket:read", "service.care:read", "sales.quote:read"]))).toEqual([
      "quotes",
      "campaigns",
      "tickets",
      "contactScheme",
    ]);
  });
  it("shows every panel for a wildcard token", () => {
    expect(visiblePanels(claims(["*"]))).toEqual(["opportunities", "quotes", "contracts", "visits", "campaigns", "tickets", "documents", "contactScheme"]);
  });
});

describe("days to expiry", () => {
  it("counts calendar days to the exclusive end", () => {
    expect(daysToExpiry("2027-03-01", "2027-02-27")).toBe(2); // across the end of February
    expect(daysToExpiry("2028-03-01", "2028-02-27")).toBe(3); // a leap year
    expect(daysToExpiry("2027-01-01", "2026-12-31")).toBe(1);
    expect(daysToExpiry("2027-01-01", "2027-01-01")).toBe(0);
    expect(daysToExpiry("2027-01-01", "2027-01-11")).toBe(-10);
  });
  it("has no answer without an end or with a malformed day", () => {
    expect(daysToExpiry(null, "2027-01-01")).toBeNull();
    expect(daysToExpiry("soon", "2027-01-01")).toBeNull();
  });
  it("states: only a signed contract runs out; soon within the first reminder offset", () => {
    expect(expiryState("signed", 0)).toBe("expired");
    expect(expiryState("signed", -3)).toBe("expired");
    expect(expiryState("signed", 1)).toBe("soon");
    expect(expiryState("signed", 90)).toBe("soon");
    expect(expiryState("signed", 91)).toBe("inForce");
    expect(expiryState("signed", 20, 10)).toBe("inForce");
    expect(expiryState("inProgress", 5)).toBe("notInForce");
    expect(expiryState("terminated", -5)).toBe("notInForce");
    expect(expiryState("signed", null)).toBe("notInForce");
  });
  it("takes the local day", () => {
    expect(localDay(new Date(2027, 0, 5, 23, 59))).toBe("2027-01-05");
    expect(localDay(new Date(2027, 11, 31, 0, 0))).toBe("2027-12-31");
  });
});

describe("preview kind by media type", () => {
  it("previews PDF, browser images and plain text; not TIFF, Office or archives", () => {
    expect(previewKind("application/pdf")).toBe("pdf");
    expect(previewKind("Application/PDF; name=x.pdf")).toBe("pdf");
    expect(previewKind("image/png")).toBe("image");
    expect(previewKind("image/jpeg")).toBe("image");
    expect(previewKind("image/webp")).toBe("image");
    expect(previewKind("image/tiff")).toBeNull();
    expect(previewKind("text/plain; charset=utf-8")).toBe("text");
    expect(previewKind("application/zip")).toBeNull();
    expect(previewKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document")).toBeNull();
    expect(previewKind("")).toBeNull();
    expect(previewKind(undefined)).toBeNull();
  });
});

describe("uploads", () => {
  it("sends the browser's type when documents take it, else by extension, else octet-stream", () => {
    expect(uploadContentType({ type: "application/pdf", name: "a.pdf" })).toBe("application/pdf");
    expect(uploadContentType({ type: "", name: "scan.PDF" })).toBe("application/pdf");
    expect(uploadContentType({ type: "", name: "notes" })).toBe("application/octet-stream");
    expect(uploadContentType({ type: "video/mp4", name: "a.mp4" })).toBeNull();
  });
  it("refuses over 100 MB and a type the service refuses before sending", () => {
    expect(checkUpload({ type: "application/pdf", name: "a.pdf", size: MAX_DOCUMENT_BYTES })).toBeNull();
    expect(checkUpload({ type: "application/pdf", name: "a.pdf", size: MAX_DOCUMENT_BYTES + 1 })).toEqual({ kind: "tooLarge" });
    expect(checkUpload({ type: "video/mp4", name: "a.mp4", size: 10 })).toEqual({ kind: "badType", type: "video/mp4" });
  });
  it("says what a refused upload means: 413 too large, 415 bad type, else the API's message", () => {
    expect(uploadProblem(new ApiError(413, { message: "body over 104857600 bytes" }, "413"))).toEqual({ kind: "tooLarge" });
    expect(uploadProblem(new ApiError(415, null, "415")).kind).toBe("badType");
    expect(uploadProblem(new ApiError(409, { message: "document is owned by gd" }, "409"))).toEqual({ kind: "message", text: "document is owned by gd" });
    expect(uploadProblem(new TypeError("Failed to fetch"))).toEqual({ kind: "message", text: "Failed to fetch" });
  });
  it("shows the API's message for content not yet at this node", () => {
    const msg = "not yet at gd: 1 of 3 pieces have arrived from gd-gz; try again shortly";
    expect(contentNotice(503, { message: msg })).toEqual({ waiting: true, message: msg });
    expect(contentNotice(410, { message: "expired" })).toEqual({ waiting: false, message: "expired" });
    expect(contentNotice(500, null)).toEqual({ waiting: false, message: "500" });
  });
});

describe("links and ticket states", () => {
  it("links to the detail screens", () => {
    expect(detailPath("opportunities", "o-1")).toBe("/sales/opportunities/o-1");
    expect(detailPath("contracts", "a/b")).toBe("/sales/contracts/a%2Fb");
    expect(detailPath("tickets", "t-1")).toBe("/service/tickets/t-1");
  });
  it("splits every ticket status into open and ended", () => {
    expect([...OPEN_TICKET_STATUSES, ...ENDED_TICKET_STATUSES].sort()).toEqual([...STATUSES].sort());
  });
});
