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
  const search = (q: string) => {
    const mine = ++seq.current;
    api
      .get<Customer[]>("/tmf-api/customerManagement/v4/customer", { query: { q: q.trim() || undefined, limit: 20, sort: "name" } })
      .then((r) => {
        if (mine !== seq.current) return;
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
      options={customers.map((c) => ({ value: c.id, label: `${c.name} · ${c.customerCode} · ${c.grade}` }))}
      data-testid={testId}
    />
  );
}

