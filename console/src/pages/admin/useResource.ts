import type { ApiPath } from "../../api/client";
import { usePagedList } from "../../api/useTmfList";

/** A server-paged org list (X-Total-Count) and a reload. */
export function useResource<T>(path: ApiPath, pageSize = 20) {
  return usePagedList<T>(path, {}, pageSize);
}
