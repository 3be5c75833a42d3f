// The list's state ↔ the TMF630 query the customer service understands (offset/limit, attribute
// filters with comma = OR, sort=-field, q= search). Kept in the URL so a page can be shared and reloaded.
import type { Query } from "../../api/client";

export interface ListState {
  page: number;
  pageSize: number;
  q: string;
  filters: Record<string, string[]>;
  sort: { field: string; desc: boolean } | null;
}

export const FILTER_KEYS = ["grade", "industry", "status", "accountManager", "ownerNode", "verification"] as const;

export function toQuery(s: ListState): Query {
  const query: Query = { offset: (s.page - 1) * s.pageSize, limit: s.pageSize };
  if (s.q.trim()) query.q = s.q.trim();
  for (const [k, values] of Object.entries(s.filters)) {
    const clean = values.map((v) => v.trim()).filter(Boolean);
    if (clean.length) query[k] = clean.join(",");
  }
  if (s.sort) query.sort = (s.sort.desc ? "-" : "") + s.sort.field;
  return query;
}

export function fromSearch(params: URLSearchParams): ListState {
  const filters: Record<string, string[]> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) filters[k] = v.split(",");
  }
  const sortRaw = params.get("sort");
  const page = Math.max(1, Number(params.get("page")) || 1);
  const pageSize = Math.min(1000, Math.max(1, Number(params.get("pageSize")) || 20));
  return {
    page,
    pageSize,
    q: params.get("q") ?? "",
    filters,
    sort: sortRaw ? { field: sortRaw.replace(/^-/, ""), desc: sortRaw.startsWith("-") } : null,
  };
}

export function toSearch(s: ListState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.page > 1) p.set("page", String(s.page));
  if (s.pageSize !== 20) p.set("pageSize", String(s.pageSize));
  if (s.q) p.set("q", s.q);
  for (const [k, v] of Object.entries(s.filters)) if (v.length) p.set(k, v.join(","));
  if (s.sort) p.set("sort", (s.sort.desc ? "-" : "") + s.sort.field);
  return p;
}
