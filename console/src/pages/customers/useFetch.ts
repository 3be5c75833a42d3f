import { useCallback, useEffect, useState } from "react";

/** Data of one read, refetched when `deps` change or `reload()` is called; null while loading or after a failure. */
export function useFetch<T>(fetcher: (signal: AbortSignal) => Promise<T>, deps: unknown[]): { data: T | null; error: Error | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    fetcher(ctrl.signal)
      .then((d) => {
        if (!ctrl.signal.aborted) {
          setData(d);
          setError(null);
        }
      })
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) {
          setData(null);
          setError(e instanceof Error ? e : new Error(String(e)));
        }
      });
    return () => ctrl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, reload };
}
