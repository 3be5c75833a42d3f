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

export interface OrgNode {
  id: string;
  code: string;
  tier: string;
  parent: string | null;
  name_zh: string;
  name_en: string;
}

export interface Staff {
  id: string;
  username: string;
  display_name: string;
  phone: string | null;
  email: string | null;
  org_unit_id: string | null;
  roles: string[];
  is_active: boolean;
  owner_node: string;
  version: number;
}

export interface Team {
  id: string;
  code: string;
  name: string;
  kind: string;
  description: string;
  org_unit_id: string | null;
  leader_id: string | null;
  member_ids: string[];
  owner_node: string;
}

export interface OrgUnit {
  id: string;
  code: string;
  name: string;
  kind: string;
  parent_id: string | null;
  owner_node: string;
}

export interface Role {
  id: string;
  code: string;
  name_zh: string;
  name_en: string;
  description: string;
  permissions: string[];
  version: number;
}

export interface Permission {
  code: string;
  description?: string;
  [key: string]: unknown;
}

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
