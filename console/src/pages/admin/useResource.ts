import { App } from "antd";
import { useCallback, useEffect, useState } from "react";
import { api, type ApiPath } from "../../api/client";

/** A server-paged org list (X-Total-Count) and a reload. */
export function useResource<T>(path: ApiPath, pageSize = 20) {
  const { message } = App.useApp();
  const [rows, setRows] = useState<T[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [loading, setLoading] = useState(false);
  const reload = useCallback(() => {
    setLoading(true);
    api
      .get<T[]>(path, { query: { offset: (page - 1) * pageSize, limit: pageSize } })
      .then((r) => {
        setRows(r.data);
        setTotal(r.total ?? r.data.length);
      })
      .catch((e: unknown) => message.error(e instanceof Error ? e.message : String(e)))
      .finally(() => setLoading(false));
  }, [path, page, pageSize, message]);
  useEffect(reload, [reload]);
  return { rows, total, page, setPage, loading, reload, pageSize };
}
