// A customer search-and-pick select (the customer service's list with q=), for the service forms.
import { Select } from "antd";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import type { Customer } from "../../api/types";

export interface CustomerPickerProps {
  value?: string | string[];
  onChange?: (value: string | string[]) => void;
  multiple?: boolean;
  testId?: string;
}

/** The server looks each picked customer up with the caller's token (names are not sent). */
export function CustomerPicker({ value, onChange, multiple, testId }: CustomerPickerProps) {
  const { t } = useTranslation();
  const [customers, setCustomers] = useState<Customer[]>([]);
  const seq = useRef(0);
  // the customers already shown, so a picked one keeps its label when a later search leaves it out
  const seen = useRef(new Map<string, Customer>());
  const search = (q: string) => {
    const mine = ++seq.current;
    api
      .get<Customer[]>("/tmf-api/customerManagement/v4/customer", { query: { q: q.trim() || undefined, limit: 20, sort: "name" } })
      .then((r) => {
        if (mine !== seq.current) return;
        for (const c of r.data) seen.current.set(c.id, c);
        setCustomers(r.data);
      })
      .catch(() => undefined);
  };
  useEffect(() => search(""), []);
  return (
    <Select
      showSearch
      mode={multiple ? "multiple" : undefined}
      filterOption={false}
      onSearch={search}
      value={value}
      onChange={(v: string | string[]) => onChange?.(v)}
      placeholder={t("service.pickCustomer")}
      options={pickerOptions(customers, value, seen.current)}
      data-testid={testId}
    />
  );
}


/** The search's customers, then the picked ones it left out (labels from what was shown before). */
export function pickerOptions(found: Customer[], value: string | string[] | undefined, seen: ReadonlyMap<string, Customer>) {
  const label = (c: Customer) => `${c.name} · ${c.customerCode} · ${c.grade}`;
  const ids = new Set(found.map((c) => c.id));
  const picked = (Array.isArray(value) ? value : value ? [value] : []).filter((id) => !ids.has(id));
  return [
    ...found.map((c) => ({ value: c.id, label: label(c) })),
    ...picked.map((id) => {
      const c = seen.get(id);
      return { value: id, label: c ? label(c) : id };
    }),
  ];
}
