// Shapes of the API resources the console reads. Where a service's OpenAPI declares a schema, the
// generated type (./gen) is used; the others mirror the service code until its routes declare
// response models (then replace them with `components["schemas"][...]`).
import type { components as OrgComponents } from "./gen/org";

/** The TMF630 error envelope (details: the service's extra facts, e.g. {field, errors[]} of a 422). */
export type TmfError = Omit<OrgComponents["schemas"]["Error"], "details"> & { details?: Record<string, unknown> | null };
export type TokenResponse = OrgComponents["schemas"]["TokenResponse"];

export interface Ref {
  id: string;
  href?: string;
  name?: string;
  "@referredType"?: string;
}

export interface RelatedParty extends Ref {
  role: string;
}

export interface Customer {
  id: string;
  href: string;
  "@type": string;
  name: string;
  shortName?: string | null;
  customerCode: string;
  customerType: string;
  nature?: string | null;
  mgmtLevel: string;
  industry: string;
  valueType?: string | null;
  grade: string;
  status: string;
  statusReason?: string | null;
  recognitionStatus: string;
  creditCode?: string | null;
  accountManager?: string | null;
  address?: string | null;
  description?: string | null;
  enterpriseScale?: string | null;
  engagedParty?: Ref | null;
  parentCustomer?: Ref | null;
  relatedParty?: RelatedParty[];
  ownerNode: string;
  /** 省级核实: unverified / verified / returned / notRequired (F1) */
  verification?: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Contact {
  id: string;
  givenName?: string | null;
  familyName?: string | null;
  fullName?: string | null;
  title?: string | null;
  department?: string | null;
  decisionRole?: string | null;
  isPrimary?: boolean;
  contactMedium?: { mediumType?: string; characteristic?: Record<string, string> }[];
  ownerNode: string;
}

export interface HistoryEntry {
  id: string;
  entityType: string;
  action: string;
  actor: string;
  at: string;
  /** {field: [old, new]} */
  changes: Record<string, [unknown, unknown]> | null;
  note: string | null;
  ownerNode: string;
}

export interface AccountManagerAssignment {
  id: string;
  accountManager: string | null;
  accountManagerName: string | null;
  previousAccountManager: string | null;
  assignedBy: string | null;
  validFor: { startDateTime: string; endDateTime: string | null };
  reason: string | null;
}

export interface DesignationResponse {
  node: string;
  status: "ACKNOWLEDGED" | "DISPUTED" | "ASSIGNED" | string;
  reason: string | null;
  accountManager: string | null;
  accountManagerName: string | null;
  respondedBy: string | null;
  version: number;
  updatedAt: string;
}

export interface Designation {
  id: string;
  href: string;
  customer: { id: string; name: string; customerCode: string; ownerNode: string };
  grade: string | null;
  groupAccountManager: string | null;
  groupAccountManagerName: string | null;
  serviceLevel: string | null;
  status: "ACTIVE" | "WITHDRAWN";
  note: string | null;
  designatedBy: string | null;
  ownerNode: string;
  version: number;
  updatedAt: string;
  responses: DesignationResponse[];
}

type OrgSchemas = OrgComponents["schemas"];
/** A read model as answered without `fields=` (the OpenAPI marks attributes optional because a
 * `fields=` selection may leave them out; the console never selects org's fields). */
export type Whole<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
// org's read models are declared in its OpenAPI: the generated types are the shapes
export type OrgNode = Whole<OrgSchemas["NodeRead"]>;
export type Staff = Whole<OrgSchemas["StaffRead"]>;
export type Team = Whole<OrgSchemas["TeamRead"]>;
export type OrgUnit = Whole<OrgSchemas["OrgUnitRead"]>;
export type Role = Whole<OrgSchemas["RoleRead"]>;
export type Permission = Whole<OrgSchemas["PermissionRead"]>;

export interface SyncStatus {
  node: string;
  tier?: string;
  parent?: string | null;
  state: string;
  checkedAt?: string;
  links?: { peer: string; role: "parent" | "child"; connected: boolean }[];
  streams?: {
    name: string;
    missing?: boolean;
    messages?: number;
    lastSeq?: number;
    sources?: { name: string; node: string | null; lag: number; idleSeconds: number | null; ok: boolean; linkConnected: boolean; error: string | null }[];
  }[];
  consumers?: { stream: string; name: string; pending: number; ackPending: number; redelivered: number }[];
  deadLetters?: Record<string, number> | number;
  restartedSources?: string[];
}

export interface CustomerBrief {
  id: string;
  name: string;
  customerCode: string;
  ownerNode: string;
  customerType: string;
}

export interface Hierarchy {
  customer: CustomerBrief;
  ancestors: CustomerBrief[];
  branches: CustomerBrief[];
}

import type { components as RulesComponents } from "./gen/rules";
export type RuleSet = Whole<RulesComponents["schemas"]["RuleSetRead"]>;
export type RuleKind = RulesComponents["schemas"]["Kind"];
