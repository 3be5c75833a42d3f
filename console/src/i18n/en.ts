// English. Same keys as zh.ts (checked by i18n.test.ts).
import type { Dict } from "./zh";
import { en as salesPipeline } from "./sales-pipeline";
import { en as salesDeals } from "./sales-deals";
import { en as salesMarketing } from "./sales-marketing";
import { en as customer360 } from "./customer-360";


type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };

const en: Widen<Dict> = {
  app: { title: "Key Account Workbench", product: "KAM key-account platform" },
  tier: { group: "Group node", province: "Province node", local: "Local network node" },
  common: {
    search: "Search", reset: "Reset", save: "Save", cancel: "Cancel", create: "New", edit: "Edit", delete: "Delete",
    refresh: "Refresh", actions: "Actions", yes: "Yes", no: "No", total: "{{count}} in all", loading: "Loading…",
    empty: "No data", back: "Back", submit: "Submit", confirm: "Confirm", close: "Close", saved: "Saved",
    created: "Created", deleted: "Deleted", view: "View", columns: "Columns", language: "Language", logout: "Sign out",
    scope: "Data scope", node: "Node", owner: "Owner node", updatedAt: "Updated", createdAt: "Created",
    version: "Version", status: "Status", name: "Name", code: "Code", kind: "Kind", description: "Description",
    futureSource: "Filled by a later service: {{source}}", readOnlyReplica: "Read-only replica: this customer is owned by {{owner}}; change it there",
    error: "Something went wrong", forbidden: "Not permitted", notFound: "Not found", retry: "Retry",
  },
  menu: {
    workbench: "Workbench", customers: "Customers", national: "National key accounts", federation: "Federation",
    admin: "Administration", dashboard: "Dashboard", rules: "Business rules", staff: "Staff", teams: "Teams", orgUnits: "Org units", roles: "Roles & permissions",
    // service (issue 12)
    service: "Service", tickets: "Tickets", knowledge: "Knowledge base", documents: "Documents", care: "Customer care", experts: "Expert service",
    // sales (issue 11)
    sales: "Sales", leads: "Leads", opportunities: "Opportunities", pipeline: "Pipeline", visits: "Visits", forecast: "Forecast",
    deals: "Quotes & contracts", quotes: "Quotes", contracts: "Contracts", catalog: "Catalogue", offerings: "Offerings & tariffs", marketing: "Marketing", campaigns: "Campaigns",
  },
  login: {
    title: "Sign in", username: "User name", password: "Password", submit: "Sign in", failed: "Invalid user name or password",
    throttled: "Too many failed logins; try again in {{seconds}} s", required: "Enter the {{field}}", nodeUnknown: "Unknown node",
  },
  password: {
    title: "Change password", mustChange: "Change the one-time password before you go on", current: "Current password", next: "New password",
    confirm: "Confirm new password", mismatch: "The passwords do not match", changed: "Password changed; sign in again",
  },
  workbench: {
    welcome: "Welcome back, {{name}}", myCustomers: "My customers", reminders: "My reminders and pending work", awaiting: "National list items awaiting my answer",
    recent: "Recent changes in my scope", noReminders: "No reminders (sales and service modules will add them)",
  },
  customer: {
    list: "Customers", create: "New customer", edit: "Edit customer", view: "Customer 360", searchPlaceholder: "Name / customer code / credit code",
    name: "Name", shortName: "Short name", customerCode: "Customer code", creditCode: "Unified social credit code", customerType: "Structure",
    nature: "Nature", mgmtLevel: "Management level", industry: "Industry", valueType: "Value type", grade: "Grade", status: "Lifecycle status",
    statusReason: "Status reason", recognitionStatus: "Recognition", accountManager: "Account manager", address: "Address", description: "Description",
    enterpriseScale: "Enterprise scale", ownerNode: "Owner node", parentCustomer: "Parent customer",
    export: "Export", exportCsv: "Export CSV", exportXlsx: "Export Excel", import: "Import", importDone: "Import finished: {{ok}} rows imported, {{failed}} failed",
    importErrors: "Import errors", row: "Row", field: "Field", message: "Message",
    profile: "Profile", contacts: "Contacts", decisionRole: "Decision role", hierarchy: "Group hierarchy", managers: "Account-manager history",
    history: "Change history", designation: "National key-account designation", products: "Products", bills: "Bills", contracts: "Contracts", tickets: "Tickets", opportunities: "Opportunities",
    who: "Who", when: "When", action: "Action", change: "Change (old → new)", validFrom: "From", validTo: "To", previous: "Previous manager",
    reason: "Reason", assignedBy: "Assigned by", title: "Title", department: "Department", primary: "Primary",
  },
  f1: {
    versionBy: "Version {{version}} · {{who}} · {{when}}", confirmDelete: "Delete it?",
    needs: {
      title: "Needs profile", networkSituation: "Network situation", businessSituation: "Business situation", techInnovationGoals: "Technology goals",
      currentProductUsage: "Current product usage", decisionProcess: "Decision process", latentNeeds: "Latent needs", businessScope: "Business scope",
      customersOfCustomer: "Customers of the customer",
    },
    competitor: {
      title: "Competitors", add: "Add competitor", edit: "Edit competitor", competitor: "Competitor", productsHeld: "Products held",
      offers: "Offers / discounts", contractEnd: "Contract end", source: "Source", observedOn: "Observed on", note: "Note",
      productsHint: "Separate products with commas",
    },
    decision: {
      title: "Decision map", from: "Contact", to: "Related to", relationType: "Relation", note: "Note", add: "Add relation",
      noContacts: "No contacts yet", noRole: "No role",
    },
    verification: {
      title: "Province verification", verify: "Verify", return: "Return", reason: "Reason for returning", reasonShown: "Returned: {{reason}}",
      by: "{{who}} ({{node}}) at {{when}}, version {{version}}", verifier: "Verified by {{node}}",
      bulk: "Verify selected ({{count}})", bulkTitle: "Bulk verification", bulkDone: "{{ok}} verified, {{failed}} failed",
    },
    dup: {
      title: "Possible duplicates", scan: "Scan for duplicates", scanned: "Scan done ({{scope}}): {{pairs}} possible pairs", minScore: "Minimum score",
      customerA: "Customer A", customerB: "Customer B", score: "Score", reasons: "Reasons", foundAt: "Found", compare: "Compare",
      dismiss: "Not a duplicate", reopen: "Reopen", compareTitle: "Compare possible duplicates (score {{score}})", survivor: "Keep",
      choices: "Choose each value the survivor keeps", reason: "Reason for the merge", merge: "Merge", merged: "Merged into {{name}}",
      mergeHint: "The merged customer's contacts, competitors, decision map and needs profile move to the survivor; reversible for 30 days.",
      propose: "Propose merge", proposed: "Merge proposed to the owner nodes (keeping {{name}})", proposals: "Merge proposals across nodes",
      notHere: "Only the owner node of both customers can merge them ({{a}} / {{b}}), or their common ancestor can propose a merge",
    },
    proposal: {
      title: "Merge proposals across nodes", survivor: "Survivor", victims: "Merged customers", state: "State", sides: "Answers of the owner nodes",
      proposedBy: "Proposed by", accept: "Accept", reject: "Reject", withdraw: "Withdraw", rejectReason: "Reason for rejecting",
      answered: "Answered", withdrawn: "Proposal withdrawn", hint: "A common ancestor proposes; each owner node answers its side; the merged customers are handed to the survivor's owner, which merges them.",
      states: { PROPOSED: "Proposed", PENDING: "Pending", REJECTED: "Rejected", MERGED: "Merged", WITHDRAWN: "Withdrawn", ACCEPTED: "Accepted" },
    },
    signal: { creditCode: "Same credit code", name: "Same name", phone: "Same phone", address: "Same address" },
  },
  enum: {
    grade: { A: "A Diamond", B: "B Gold", C: "C Silver" },
    status: { PROSPECT: "Prospect", INTENT: "Intent", ACTIVE: "Active", AT_RISK: "At risk", SUSPENDED: "Suspended", ARREARS: "In arrears", LOST: "Lost", CLOSED: "Closed" },
    industry: { FINANCE: "Finance", GOVERNMENT: "Government", EDUCATION: "Education", HEALTH: "Health", MANUFACTURING: "Manufacturing", ENERGY: "Energy", TRANSPORT: "Transport", MEDIA: "Media", INTERNET: "Internet", COMMERCE: "Commerce", OTHER: "Other" },
    customerType: { GROUP_CUSTOMER: "Group customer", SINGLE: "Single" },
    mgmtLevel: { GROUP: "Group", PROVINCE: "Province", LOCAL: "Local network" },
    nature: { PARTY_GOV_MIL: "Party, government, military", ENTERPRISE: "Enterprise", PUBLIC_INSTITUTION: "Public institution", SOCIAL_ORG: "Social organisation", FOREIGN: "Foreign-owned", CARRIER: "Carrier" },
    valueType: { INTRINSIC: "Intrinsic", EXTRINSIC: "Extrinsic", STRATEGIC: "Strategic" },
    recognitionStatus: { CANDIDATE: "Candidate", CONFIRMED: "Confirmed", UNDER_REVIEW: "Under review", DOWNGRADED: "Downgraded", EXITED: "Exited" },
    decisionRole: { DECISION_MAKER: "Decision maker", INFLUENCER: "Influencer", USER: "User" },
    relationType: { REPORTS_TO: "Reports to", INFLUENCES: "Influences", ALLY: "Ally", OPPONENT: "Opponent" },
    verification: { unverified: "Unverified", verified: "Verified", returned: "Returned", notRequired: "Not required" },
    pairStatus: { OPEN: "Open", DISMISSED: "Dismissed", MERGED: "Merged" },
    designationStatus: { ACTIVE: "Active", WITHDRAWN: "Withdrawn" },
    responseStatus: { ACKNOWLEDGED: "Acknowledged", DISPUTED: "Disputed", ASSIGNED: "Assigned", PENDING: "Pending" },
    action: { create: "Created", update: "Changed", delete: "Deleted", status: "Status change", assign: "Manager assigned", import: "Imported", transfer: "Transferred", merge: "Merged", unmerge: "Merge undone", reverse: "Merge reversed", verify: "Verified", designate: "Designated", recognize: "Recognised", respond: "Responded" },
  },
  // the service service's screens (issue 12)
  service: {
    tickets: "Trouble tickets", newTicket: "New ticket", ticket: "Ticket", searchPlaceholder: "Title / customer / service number", breachedOnly: "Breached only",
    name: "Title", description: "Description", ticketType: "Type", channel: "Channel", priority: "Priority", status: "Status",
    customer: "Customer", customerGrade: "Customer grade", pickCustomer: "Search and pick a customer", affectedService: "Service number / circuit id",
    externalId: "External no.", handler: "Handler", ownerNode: "Accepted at", creationDate: "Accepted", lastUpdate: "Updated",
    resolutionDate: "Resolved", closedDate: "Closed", reopenCount: "Reopened", responseDue: "Response due", resolveDue: "Resolution due",
    sla: "Service level (SLA)", noSla: "No SLA rule applies (no deadlines)", rule: "Rule", calendar: "Calendar", pausedMinutes: "Paused (minutes)",
    escalation: "Escalation ladder", escalationLevel: "Escalation level", step: "Step", to: "Notify", dueAt: "Due", firedAt: "Fired",
    history: "Status history", actor: "By", reason: "Reason", actions: "Actions", noActions: "No action available",
    replica: "Read-only replica: this ticket was accepted at {{owner}}; handle it there", dispatched: "Dispatched to {{node}}",
    move: "Change status", moveTo: "Change to: {{status}}", revisit: "Revisit", satisfied: "Is the customer satisfied?", satisfiedYes: "Satisfied (close)",
    satisfiedNo: "Dissatisfied (reopen)", score: "Satisfaction", comment: "Comment", survey: "Satisfaction survey", closedOk: "Ticket closed",
    reopened: "Ticket reopened", moved: "Status changed", audit: "Audit trail",
    left: "{{time}} left", over: "{{time}} over", dhm: "{{d}}d {{h}}h {{m}}m", hm: "{{h}}h {{m}}m", mOnly: "{{m}}m",
    deadline: {
      met: "Met", late: "Met late", breached: "Breached", soon: "Due soon", running: "Running", paused: "Paused (customer)",
      stopped: "Not counted", none: "—",
    },
    types: { COMPLAINT: "Complaint", FAULT: "Fault", CONSULTATION: "Consultation", CHANGE_REQUEST: "Change request" },
    channels: { HOTLINE: "Hotline", CS_10000: "10000 service", ACCOUNT_MANAGER: "Account manager", EMAIL: "E-mail", WEB: "Web" },
    priorities: { CRITICAL: "Critical", HIGH: "High", MEDIUM: "Medium", LOW: "Low" },
    statuses: {
      acknowledged: "Acknowledged", inProgress: "In progress", pending: "Pending customer", resolved: "Resolved (revisit due)", closed: "Closed",
      rejected: "Rejected", cancelled: "Cancelled",
    },
    moves: { inProgress: "Start work", pending: "Wait for customer", resolved: "Resolve", rejected: "Reject", cancelled: "Cancel" },
    knowledge: "Knowledge base", kSearch: "Search knowledge (words separated by spaces)", newItem: "New item", contribute: "Contribute (reviewed by the province)",
    editItem: "Edit item", kind: "Kind", title: "Title", summary: "Summary", body: "Body", tags: "Tags", revision: "Revision",
    author: "Author", reviewer: "Reviewer", publishedAt: "Published", rank: "Relevance", contributions: "My contributions", reviewingNode: "Reviewed at",
    outcome: "Outcome", contributed: "Contribution submitted", kindNames: { PRODUCT_SPEC: "Product spec", SOLUTION_CASE: "Solution case", POLICY: "Policy", COMPETITOR: "Competitor intelligence", FAQ: "FAQ" },
    itemStatuses: { draft: "Draft", reviewed: "Reviewed", published: "Published", retired: "Retired" },
    kActions: { edit: "Edit", review: "Approve review", publish: "Publish", retire: "Retire", revise: "Revise" },
    documents: "Documents", category: "Category", currentVersion: "Current version", fileName: "File", size: "Size", expiresOn: "Expires",
    expired: "Expired", open: "Open", createdBy: "Created by", relatedEntity: "Related to",
    categories: { CONTRACT_SCAN: "Contract scan", PROPOSAL: "Proposal", TENDER: "Tender", VISIT_MINUTES: "Visit minutes", SOLUTION: "Technical solution", OTHER: "Other" },
    care: "Customer care", plans: "Care plans", activities: "Care activities", occasion: "Occasion", leadDays: "Lead days", budget: "Budget per target", targets: "Targets",
    segment: "Segment", active: "Active", dueOn: "Due on", cost: "Cost", feedback: "Feedback", satisfaction: "Satisfaction",
    careKinds: { BIRTHDAY_GREETING: "Birthday greeting", HOLIDAY_GREETING: "Holiday greeting", EXECUTIVE_VISIT: "Executive visit", VIP_EVENT: "VIP event" },
    careStatuses: { PROPOSED: "Proposed", PLANNED: "Planned", DONE: "Done", CANCELLED: "Cancelled" },
    experts: "Expert service", pool: "Expert pool", requests: "Expert requests", expert: "Expert", username: "Account", domains: "Domains", industries: "Industries",
    subject: "Subject", domain: "Domain", industry: "Industry", requestedBy: "Requested by", outcomeSummary: "Outcome",
    requestStatuses: { REQUESTED: "Requested", ASSIGNED: "Assigned", ANSWERED: "Answered", CLOSED: "Closed", CANCELLED: "Cancelled" },
  },
  national: {
    title: "National key-account list", designate: "Designate", customer: "Customer", grade: "Grade", groupAccountManager: "Group account manager",
    serviceLevel: "Service level", note: "Note", responses: "Answers by node", acknowledge: "Acknowledge", dispute: "Dispute", assign: "Assign manager",
    withdraw: "Withdraw", answered: "Answered", reason: "Reason", customerId: "Customer ID", respondedBy: "Answered by", myAnswer: "This node's answer",
    onlyGroup: "Only the group node designates", pickCustomer: "Pick a customer",
  },
  federation: {
    title: "Federation status", tree: "Node tree", links: "Links", peer: "Peer", role: "Direction", parent: "Parent", child: "Child", connected: "Connected",
    disconnected: "Disconnected", sources: "Sources", lag: "Lag (messages)", idle: "Idle (s)", consumers: "Consumers", pending: "Pending",
    ackPending: "Ack pending", redelivered: "Redeliveries", deadLetters: "Dead letters", resync: "Resync", resyncDone: "Resync requested",
    lagChart: "Lag over the last minutes", state: "State", checkedAt: "Checked at", ok: "OK", degraded: "Degraded",
  },
  admin: {
    staff: "Staff", teams: "Teams", orgUnits: "Org units", roles: "Roles & permissions", username: "User name", displayName: "Name",
    phone: "Phone", email: "Email", roleList: "Roles", active: "Active", orgUnit: "Org unit", leader: "Leader", members: "Members",
    parent: "Parent unit", permissions: "Permissions", nameZh: "Chinese name", nameEn: "English name", password: "Initial password", deactivate: "Deactivate",
    rules: "Business rules",
  },
  rules: {
    draft: "New draft", kind: "Kind", scope: "Scope", validFrom: "Valid from", author: "Author", parameters: "Parameters (JSON)",
    approve: "Approve", publish: "Publish", retire: "Retire", badJson: "The parameters are not valid JSON",
    status: { DRAFT: "Draft", APPROVED: "Approved", PUBLISHED: "Published", RETIRED: "Retired" },
    kinds: { recognition: "Recognition and grading", value_scoring: "Value scoring", churn_warning: "Churn warning", sla: "Service SLA and escalation", reminder: "Contract and follow-up reminders", opportunity_probability: "Opportunity stage probability", assignment: "Account-manager assignment", settlement_split: "Settlement split" },
  },
  dashboard: {
    title: "Dashboard", byGrade: "By grade", byIndustry: "By industry", byNode: "By node", candidates: "Recognition candidates", designations: "Designations by status",
    drill: "Click a bar to drill down to the nodes below", up: "Up one level", customers: "Customers",
  },
  // the sales screens (issue 11), one file per part
  salesPipeline,
  salesDeals,
  salesMarketing,
  customer360,
};

export default en;
