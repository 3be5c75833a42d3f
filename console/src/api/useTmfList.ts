// One TMF630 list read for every list screen: rows of a page, X-Total-Count (and whether it is a lower
// bound: X-Total-Count-Relation "gte" past the search count bound, issue 13), loading, and a reload.
import { App } from "antd";
import { useCallback, useEffect, useState } from "react";
import type { TFunction } from "i18next";
import { api, type ApiPath, type Query } from "./client";

export interface TmfList<T> {
  rows: T[];
  total: number;
  /** the server counted up to a bound and stopped: `total` is "at least" (shown as "10,000+") */
  totalIsLowerBound: boolean;
  loading: boolean;
  reload: () => void;
}

/** GET `path` with `query` (offset/limit included by the caller); refetched when either changes. */
export function useTmfList<T>(path: ApiPath, query: Query): TmfList<T> {
  const { message } = App.useApp();
  const [rows, setRows] = useState<T[]>([]);
  const [total, setTotal] = useState(0);
  const [lowerBound, setLowerBound] = useState(false);
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);
  const key = JSON.stringify(query);
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    api
      .get<T[]>(path, { query: JSON.parse(key) as Query, signal: ctrl.signal })
      .then((r) => {
        setRows(r.data);
        setTotal(r.total ?? r.data.length);
        setLowerBound(r.headers.get("X-Total-Count-Relation") === "gte");
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [path, key, reloads, message]);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { rows, total, totalIsLowerBound: lowerBound, loading, reload };
}

/** A list paged in component state (not the URL): the page goes back to 1 when the filters change. */
export function usePagedList<T>(path: ApiPath, filters: Query = {}, pageSize = 20) {
  const [page, setPage] = useState(1);
  const key = JSON.stringify(filters);
  useEffect(() => setPage(1), [key]);
  const list = useTmfList<T>(path, { ...filters, offset: (page - 1) * pageSize, limit: pageSize });
  return { ...list, page, setPage, pageSize };
}

/** "12,345" or, for a lower bound, "10,000+". */
export function formatTotal(total: number, lowerBound: boolean): string {
  return total.toLocaleString("en-US") + (lowerBound ? "+" : "");
}

/** The antd Table pagination of a paged list, its total shown as "共 N 条" (a lower bound as "N+"). */
export function tablePagination(list: Pick<ReturnType<typeof usePagedList>, "page" | "pageSize" | "total" | "totalIsLowerBound" | "setPage">, t: TFunction) {
  return {
    current: list.page,
    pageSize: list.pageSize,
    total: list.total,
    onChange: list.setPage,
    showTotal: (n: number) => t("common.total", { count: formatTotal(n, list.totalIsLowerBound) }),
  };
}
