import { App } from "antd";
import { useEffect, useState } from "react";
import { api, type ApiPath, type Query } from "../../api/client";

/** A server-paged list (offset/limit, X-Total-Count) with its filters. */
export function useList<T>(path: ApiPath, filters: Query, pageSize = 20) {
  const { message } = App.useApp();
  const [rows, setRows] = useState<T[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify(filters);
  useEffect(() => setPage(1), [key]);
  useEffect(() => {
    const ctrl = new AbortController();
    setLoading(true);
    api
      .get<T[]>(path, { query: { ...(JSON.parse(key) as Query), offset: (page - 1) * pageSize, limit: pageSize }, signal: ctrl.signal })
      .then((r) => {
        setRows(r.data);
        setTotal(r.total ?? r.data.length);
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) message.error(e instanceof Error ? e.message : String(e));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [path, key, page, pageSize, message]);
  return { rows, total, page, setPage, loading, pageSize };
}
