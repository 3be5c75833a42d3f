// The console's screens. A service adds its screen with ONE entry here (its route and its menu entry)
// and ONE folder under pages/ whose index.tsx is the lazily loaded page (docs/console.md).
import {
  BarChartOutlined,
  BellOutlined,
  ClusterOutlined,
  CustomerServiceOutlined,
  DesktopOutlined,
  FlagOutlined,
  FundOutlined,
  SettingOutlined,
  TeamOutlined,
} from "@ant-design/icons";
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from "react";
import { hasPermission, type Claims } from "./auth/session";
import { inboxesFor } from "./components/inbox";

export interface Screen {
  /** the menu key and the i18n key under menu.* */
  key: string;
  /** the route; a page with sub-pages ends in "/*" and routes inside itself */
  path: string;
  icon: ReactNode;
  /** the permission without which the menu entry is not offered (the API would refuse) */
  permission?: string;
  /** offered only when this holds for the user (a condition no single permission says) */
  when?: (claims: Claims | null) => boolean;
  /** sub-menu entries (paths relative to the console root) */
  children?: { key: string; path: string; permission?: string }[];
  page: LazyExoticComponent<ComponentType>;
}

export const SCREENS: Screen[] = [
  { key: "workbench", path: "workbench", icon: <DesktopOutlined />, page: lazy(() => import("./pages/workbench")) },
  {
    key: "customers",
    path: "customers/*",
    icon: <TeamOutlined />,
    permission: "customer:read",
    page: lazy(() => import("./pages/customers")),
  },
  {
    key: "national",
    path: "national/*",
    icon: <FlagOutlined />,
    permission: "customer:read",
    page: lazy(() => import("./pages/national")),
  },
  {
    key: "dashboard",
    path: "dashboard",
    icon: <BarChartOutlined />,
    permission: "customer:read",
    page: lazy(() => import("./pages/dashboard")),
  },
  {
    key: "sales",
    path: "sales/*",
    icon: <FundOutlined />,
    children: [
      { key: "opportunities", path: "sales/opportunities", permission: "sales.opportunity:read" },
      { key: "catalog", path: "sales/catalog", permission: "sales.catalog:read" },
      { key: "quotes", path: "sales/quotes", permission: "sales.quote:read" },
      { key: "contracts", path: "sales/contracts", permission: "sales.agreement:read" },
      { key: "leads", path: "sales/leads", permission: "sales.opportunity:read" },
      { key: "visits", path: "sales/visits", permission: "sales.opportunity:read" },
      { key: "forecast", path: "sales/forecast", permission: "sales.opportunity:read" },
      { key: "campaigns", path: "sales/campaigns", permission: "sales.campaign:read" },
    ],
    page: lazy(() => import("./pages/sales")),
  },
  {
    key: "service",
    path: "service/*",
    icon: <CustomerServiceOutlined />,
    children: [
      { key: "tickets", path: "service/tickets", permission: "service.ticket:read" },
      { key: "quality", path: "service/quality", permission: "service.ticket:read" },
      { key: "knowledge", path: "service/knowledge", permission: "service.knowledge:read" },
      { key: "documents", path: "service/documents", permission: "service.document:read" },
      { key: "care", path: "service/care", permission: "service.care:read" },
      { key: "experts", path: "service/experts", permission: "service.expert:read" },
    ],
    page: lazy(() => import("./pages/service")),
  },
  // the notification centre: the user's own inboxes (no permission: nobody is refused their own), offered
  // when the user can use a service that delivers any (components/inbox.ts)
  {
    key: "notifications",
    path: "notifications",
    icon: <BellOutlined />,
    when: (claims) => inboxesFor(claims).length > 0,
    page: lazy(() => import("./pages/notifications")),
  },
  {
    key: "federation",
    path: "federation",
    icon: <ClusterOutlined />,
    permission: "sync:read",
    page: lazy(() => import("./pages/federation")),
  },
  {
    key: "admin",
    path: "admin/*",
    icon: <SettingOutlined />,
    children: [
      { key: "staff", path: "admin/staff", permission: "org.staff:read" },
      { key: "teams", path: "admin/teams", permission: "org.team:read" },
      { key: "orgUnits", path: "admin/org-units", permission: "org.team:read" },
      { key: "roles", path: "admin/roles", permission: "org.role:read" },
      { key: "rules", path: "admin/rules", permission: "rules:read" },
    ],
    page: lazy(() => import("./pages/admin")),
  },
];


/** The screens (and sub-entries) this user may use: nothing the API would refuse is offered. */
export function visibleScreens(claims: Claims | null, screens: Screen[] = SCREENS): Screen[] {
  const out: Screen[] = [];
  for (const s of screens) {
    if (s.permission && !hasPermission(claims, s.permission)) continue;
    if (s.when && !s.when(claims)) continue;
    if (s.children) {
      const children = s.children.filter((c) => !c.permission || hasPermission(claims, c.permission));
      if (children.length === 0) continue;
      out.push({ ...s, children });
    } else {
      out.push(s);
    }
  }
  return out;
}
