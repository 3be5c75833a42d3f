// The change history's lines: "field: old → new" of one audit record, with enum codes shown as their
// labels (a history of grade B → A reads "客户等级: B 金 → A 钻石", not the raw codes).
import type { TFunction } from "i18next";
import { enumLabel, type EnumName } from "../../components/labels";

type Changes = Record<string, unknown> | null | undefined;

/** "name: A → B" lines of one audit record's changes ({field: [old, new]}). */
export function changeLines(
  changes: Changes,
  label: (field: string) => string = (f) => f,
  value: (field: string, v: unknown) => string | null = () => null,
): string[] {
  if (!changes) return [];
  const show = (field: string, v: unknown) => {
    if (v === null || v === undefined || v === "") return "∅";
    const shown = value(field, v);
    if (shown !== null) return shown;
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  return Object.entries(changes).map(([k, pair]) => {
    const [a, b] = Array.isArray(pair) ? pair : [null, pair];
    return `${label(k)}: ${show(k, a)} → ${show(k, b)}`;
  });
}

// audited attributes whose values are enum codes (by API name) → the enum whose labels they take
const ENUM_FIELDS: Record<string, EnumName> = {
  grade: "grade",
  status: "status",
  industry: "industry",
  customerType: "customerType",
  mgmtLevel: "mgmtLevel",
  nature: "nature",
  valueType: "valueType",
  recognitionStatus: "recognitionStatus",
  decisionRole: "decisionRole",
  relationType: "relationType",
  verification: "verification",
};

/** The label of an audited value when its attribute is an enum (null: show the value as it is). */
export function enumValue(t: TFunction): (field: string, v: unknown) => string | null {
  return (field, v) => {
    const name = ENUM_FIELDS[field];
    return name && typeof v === "string" ? enumLabel(t, name, v) : null;
  };
}
