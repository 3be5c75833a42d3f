import type { TFunction } from "i18next";

export const ENUMS = {
  grade: ["A", "B", "C"],
  status: ["PROSPECT", "INTENT", "ACTIVE", "AT_RISK", "SUSPENDED", "ARREARS", "LOST", "CLOSED"],
  industry: ["FINANCE", "GOVERNMENT", "EDUCATION", "HEALTH", "MANUFACTURING", "ENERGY", "TRANSPORT", "MEDIA", "INTERNET", "COMMERCE", "OTHER"],
  customerType: ["GROUP_CUSTOMER", "SINGLE"],
  mgmtLevel: ["GROUP", "PROVINCE", "LOCAL"],
  nature: ["PARTY_GOV_MIL", "ENTERPRISE", "PUBLIC_INSTITUTION", "SOCIAL_ORG", "FOREIGN", "CARRIER"],
  valueType: ["INTRINSIC", "EXTRINSIC", "STRATEGIC"],
  recognitionStatus: ["CANDIDATE", "CONFIRMED", "UNDER_REVIEW", "DOWNGRADED", "EXITED"],
} as const;

export type EnumName = keyof typeof ENUMS | "decisionRole" | "designationStatus" | "responseStatus" | "action" | "relationType" | "verification" | "pairStatus";

/** The label of an enum value in the current language; an unknown value shows as itself. */
export function enumLabel(t: TFunction, name: EnumName, value: string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  return t(`enum.${name}.${value}`, { defaultValue: value });
}

export function enumOptions(t: TFunction, name: keyof typeof ENUMS): { value: string; label: string }[] {
  return ENUMS[name].map((v) => ({ value: v, label: enumLabel(t, name, v) }));
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
