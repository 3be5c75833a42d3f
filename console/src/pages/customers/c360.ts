// Pure logic of the customer's 360 view panels from the sales and service services (issues 11, 12):
// which panels the token may see, a contract's days to expiry, how a document version previews, the
// media type an upload is sent as, and what an upload or content error says.
import { ApiError } from "../../api/errors";
import { hasPermission, type Claims } from "../../auth/session";

/** The panels fed by other services, each with the read permission its list needs. */
export const PANELS = {
  opportunities: "sales.opportunity:read",
  quotes: "sales.quote:read",
  contracts: "sales.agreement:read",
  visits: "sales.opportunity:read", // visits are pipeline work (docs/sales.md Visits)
  campaigns: "sales.campaign:read",
  tickets: "service.ticket:read",
  documents: "service.document:read",
  contactScheme: "service.care:read",
} as const;
export type Panel = keyof typeof PANELS;

/** The panels this token may see, in the order the view shows them. */
export function visiblePanels(claims: Claims | null | undefined): Panel[] {
  return (Object.keys(PANELS) as Panel[]).filter((p) => hasPermission(claims, PANELS[p]));
}

/** The console's detail screen of a sales or service record. */
export function detailPath(kind: "opportunities" | "quotes" | "contracts" | "visits" | "campaigns" | "tickets", id: string): string {
  return kind === "tickets" ? `/service/tickets/${encodeURIComponent(id)}` : `/sales/${kind}/${encodeURIComponent(id)}`;
}

/** The local calendar day of `now` as YYYY-MM-DD. */
export function localDay(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function dayNumber(day: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
}

/** Days from `today` to the contract's end (the period's end is exclusive: the contract expires on
 * that day, so 0 = expires today, negative = expired); null without an end. */
export function daysToExpiry(endDay: string | null | undefined, today: string): number | null {
  if (!endDay) return null;
  const end = dayNumber(endDay);
  const now = dayNumber(today);
  return end === null || now === null ? null : end - now;
}

export type ExpiryState = "expired" | "soon" | "inForce" | "notInForce";

/** A contract's expiry as the panel colours it: only a signed contract runs out; soon = within the
 * reminder rule's first offset (90 days by default, docs/sales.md Contracts). */
export function expiryState(status: string | undefined, days: number | null, soonDays = 90): ExpiryState {
  if (status !== "signed" || days === null) return "notInForce";
  if (days <= 0) return "expired";
  return days <= soonDays ? "soon" : "inForce";
}

export type PreviewKind = "pdf" | "image" | "text" | null;

/** How a version previews in the browser: PDF in a frame, images as an image, plain text in a frame;
 * null for the rest (download only). Parameters (`; charset=…`) and case are ignored. */
export function previewKind(contentType: string | null | undefined): PreviewKind {
  const t = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (t === "application/pdf") return "pdf";
  if (t === "image/tiff") return null; // browsers do not render TIFF
  if (t.startsWith("image/")) return "image";
  if (t === "text/plain" || t === "text/csv") return "text";
  return null;
}

/** The media types the document upload takes (services/service document/states.py UPLOAD_TYPES). */
export const UPLOAD_TYPES = [
  "application/pdf",
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/tiff",
  "text/plain",
  "text/csv",
  "application/octet-stream",
  "application/zip",
  "application/msword",
  "application/vnd.ms-excel",
  "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
] as const;

/** The Content-Type a file is uploaded with: the browser's type when documents take it, else by the
 * file's extension, else application/octet-stream (which the service takes). null: a type the service
 * refuses (415) — say so before sending. */
export function uploadContentType(file: { type: string; name: string }): string | null {
  const t = file.type.toLowerCase();
  if ((UPLOAD_TYPES as readonly string[]).includes(t)) return t;
  if (t === "") {
    const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
    const byExt: Record<string, string> = { pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", txt: "text/plain", csv: "text/csv", zip: "application/zip" };
    return (ext && byExt[ext]) ?? "application/octet-stream";
  }
  return null;
}

/** F4: the largest file a document version takes (413 beyond it, nothing stored). */
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;

export type UploadProblem = { kind: "tooLarge" } | { kind: "badType"; type: string } | { kind: "message"; text: string };

/** What to say before sending a file, or null when it may go. */
export function checkUpload(file: { type: string; name: string; size: number }, limit = MAX_DOCUMENT_BYTES): UploadProblem | null {
  if (file.size > limit) return { kind: "tooLarge" };
  if (uploadContentType(file) === null) return { kind: "badType", type: file.type };
  return null;
}

/** A failed upload as what to say: over the limit (413) and a refused type (415) in the panel's own
 * words, anything else as the API's message. */
export function uploadProblem(error: unknown): UploadProblem {
  if (error instanceof ApiError && error.status === 413) return { kind: "tooLarge" };
  if (error instanceof ApiError && error.status === 415) return { kind: "badType", type: "" };
  return { kind: "message", text: error instanceof Error ? error.message : String(error) };
}

/** A content read that the node cannot answer yet (503: not all pieces have arrived from the owner),
 * or any other refusal, as a notice with the API's own message — never a broken preview. */
export function contentNotice(status: number, body: { message?: string } | null): { waiting: boolean; message: string } {
  return { waiting: status === 503, message: body?.message ?? String(status) };
}

/** The ticket statuses not yet ended (resolved awaits the customer's revisit); the panel lists them
 * first — its default tab — as pages/service/logic.ts counts closed, rejected and cancelled as ended. */
export const OPEN_TICKET_STATUSES = ["acknowledged", "inProgress", "pending", "resolved"] as const;
export const ENDED_TICKET_STATUSES = ["closed", "rejected", "cancelled"] as const;
