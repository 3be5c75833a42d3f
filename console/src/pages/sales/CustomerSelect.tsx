// A customer picker for the sales forms (visits, leads): searches the customer list by name as one types.
import { Select } from "antd";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../../api/client";
import type { Customer } from "../../api/types";

const CUSTOMERS = "/tmf-api/customerManagement/v4/customer";

export function CustomerSelect({ value, onChange, onPicked, testId }: { value?: string; onChange?: (v: string) => void; onPicked?: (c: Customer | undefined) => void; testId?: string }) {
  const { t } = useTranslation();
  const [customers, setCustomers] = useState<Customer[]>([]);
  const seq = useRef(0);
  const search = (q: string) => {
    const mine = ++seq.current;
    api
      .get<Customer[]>(CUSTOMERS, { query: { q: q.trim() || undefined, limit: 20, sort: "name", fields: "id,name,customerCode,grade" } })
      .then((r) => {
        if (mine === seq.current) setCustomers(r.data);
      })
      .catch(() => undefined); // the picker stays as it was
  };
  useEffect(() => search(""), []);
  return (
    <Select
      showSearch={{ filterOption: false, onSearch: search }}
      value={value}
      onChange={(v: string) => {
        onChange?.(v);
        onPicked?.(customers.find((c) => c.id === v));
      }}
      placeholder={t("salesMarketing.pickCustomer")}
      options={customers.map((c) => ({ value: c.id, label: `${c.name} · ${c.customerCode}` }))}
      data-testid={testId}
    />
  );
}
