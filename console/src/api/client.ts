// The typed API client. Paths are checked against the services' generated OpenAPI types (./gen), so a
// route that is renamed or removed breaks the build; responses are typed by the caller until the
// services declare response models. A 401 anywhere signs out and returns to login, then back.
import type { ApiPaths } from "./gen";
import { currentSession, signOut } from "../auth/session";
import { ApiError } from "./errors";
import type { TmfError } from "./types";

export type ApiPath = keyof ApiPaths;
type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type Query = Record<string, string | number | boolean | null | undefined>;

export interface CallOptions {
  path?: Record<string, string>;
  query?: Query;
  body?: unknown;
  form?: Record<string, string>;
  raw?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
  /** do not turn a 401 into a return to login (the login form itself) */
  noAuthRedirect?: boolean;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  total: number | null;
  headers: Headers;
}

/** The URL of `template` with its {params} filled in and the query appended (empty values left out). */
export function buildUrl(template: string, params: Record<string, string> = {}, query: Query = {}): string {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function call<T>(method: Method, template: ApiPath, opts: CallOptions = {}): Promise<ApiResult<T>> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const session = currentSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  let body: BodyInit | undefined;
  if (opts.form) {
    body = new URLSearchParams(opts.form);
    headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers["Content-Type"] = opts.contentType;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = method === "PATCH" ? "application/merge-patch+json" : "application/json";
  }
  const resp = await fetch(buildUrl(template, opts.path, opts.query), { method, headers, body, signal: opts.signal });
  const text = await resp.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!resp.ok) {
    if (resp.status === 401 && !opts.noAuthRedirect) {
      signOut();
      onUnauthorized?.();
    }
    const envelope = data && typeof data === "object" ? (data as Partial<TmfError>) : null;
    throw new ApiError(resp.status, envelope, `${resp.status} ${resp.statusText}`);
  }
  const total = resp.headers.get("X-Total-Count");
  return { data: data as T, status: resp.status, total: total === null ? null : Number(total), headers: resp.headers };
}

export const api = {
  get: <T>(p: ApiPath, o?: CallOptions) => call<T>("GET", p, o),
  post: <T>(p: ApiPath, o?: CallOptions) => call<T>("POST", p, o),
  put: <T>(p: ApiPath, o?: CallOptions) => call<T>("PUT", p, o),
  patch: <T>(p: ApiPath, o?: CallOptions) => call<T>("PATCH", p, o),
  del: <T>(p: ApiPath, o?: CallOptions) => call<T>("DELETE", p, o),
};

/** Download a streamed export (CSV/XLSX/PDF) with the bearer token, saved under the server's file name. */
export async function download(template: ApiPath, query: Query, fallbackName: string, path: Record<string, string> = {}): Promise<void> {
  const session = currentSession();
  const resp = await fetch(buildUrl(template, path, query), {
    headers: session ? { Authorization: `Bearer ${session.token}` } : {},
  });
  if (!resp.ok) {
    const body = (await resp.json().catch(() => null)) as Partial<TmfError> | null;
    throw new ApiError(resp.status, body, `${resp.status}`);
  }
  const disposition = resp.headers.get("Content-Disposition") ?? "";
  const name = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)?.[1];
  const blob = await resp.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name ? decodeURIComponent(name) : fallbackName;
  a.click();
  URL.revokeObjectURL(a.href);
}
