import { useEffect, useState } from "react";
import { api } from "../../api/client";
import type { Customer } from "../../api/types";

export function useCustomer(id: string | undefined): { customer: Customer | null; error: Error | null } {
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!id) return;
    const ctrl = new AbortController();
    api
      .get<Customer>("/tmf-api/customerManagement/v4/customer/{customer_id}", { path: { customer_id: id }, signal: ctrl.signal })
      .then((r) => setCustomer(r.data))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) setError(e instanceof Error ? e : new Error(String(e)));
      });
    return () => ctrl.abort();
  }, [id]);
  return { customer, error };
}
