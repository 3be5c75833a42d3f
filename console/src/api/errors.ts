// The TMF630 error envelope every service answers with, and what the console shows of it.
import type { FormInstance } from "antd";
import type { TmfError } from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly body: Partial<TmfError> | null;

  constructor(status: number, body: Partial<TmfError> | null, fallback: string) {
    super(body?.message ?? fallback);
    this.status = status;
    this.body = body;
  }

  /** Field → message for a 422 whose details name fields (details.errors[] or details.field). */
  fieldErrors(): Record<string, string> {
    return fieldErrors(this.body);
  }
}

/** "creditCode" from "creditCode", "body.creditCode" or "relatedParty.0.id" → the form field's name. */
export function formFieldName(field: string): string {
  const parts = field.split(".").filter((p) => p !== "body");
  return parts[0] ?? field;
}

export function fieldErrors(body: Partial<TmfError> | null): Record<string, string> {
  const out: Record<string, string> = {};
  const details = (body?.details ?? null) as { field?: unknown; errors?: unknown } | null;
  if (!details) return out;
  if (Array.isArray(details.errors)) {
    for (const e of details.errors as { field?: unknown; message?: unknown }[]) {
      if (typeof e.field === "string" && typeof e.message === "string") {
        const name = formFieldName(e.field);
        out[name] = out[name] ? `${out[name]}; ${e.message}` : e.message;
      }
    }
  }
  if (typeof details.field === "string" && Object.keys(out).length === 0) {
    out[formFieldName(details.field)] = body?.message ?? "invalid";
  }
  return out;
}

/** Puts a failed save's field errors at the form's fields (`fields`: the form's names, null for any;
 * `rename` maps a server field to one) and returns what is left to show above the form: the message when an error names no field of the
 * form, the error's text for anything else, null when every error is at a field. */
export function applyFieldErrors(form: Pick<FormInstance, "setFields">, error: unknown, fields: Iterable<string> | null, rename: (field: string) => string = (f) => f): string | null {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const known = fields === null ? null : new Set(fields);
  const all = Object.entries(error.fieldErrors()).map(([k, m]) => [rename(k), m] as const);
  const shown = all.filter(([k]) => known === null || known.has(k));
  form.setFields(shown.map(([name, errors]) => ({ name, errors: [errors] })));
  return shown.length > 0 && shown.length === all.length ? null : error.message;
}
