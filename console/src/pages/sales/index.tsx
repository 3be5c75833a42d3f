// The sales screens (issue 11): the pipeline — opportunities as a table or a kanban by stage, and an
// opportunity's detail; the deals — catalogue, quotes, contracts; marketing, leads, visits and the forecast. One folder and one entry in modules.tsx (docs/console.md); each sub-page is
// refused without its permission, as its menu entry is hidden.
import { Spin } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Gate } from "../../components/Gate";

const OpportunityList = lazy(() => import("./OpportunityList"));
const OpportunityDetail = lazy(() => import("./OpportunityDetail"));
const Catalog = lazy(() => import("./Catalog"));
const OfferingDetail = lazy(() => import("./Catalog").then((m) => ({ default: m.OfferingDetail })));
const QuoteList = lazy(() => import("./QuoteList"));
const QuoteDetail = lazy(() => import("./QuoteDetail"));
const QuoteEditor = lazy(() => import("./QuoteEditor"));
const ContractList = lazy(() => import("./ContractList"));
const ContractDetail = lazy(() => import("./ContractDetail"));
// marketing, leads, visits, forecast
const LeadList = lazy(() => import("./LeadList"));
const CampaignList = lazy(() => import("./CampaignList"));
const CampaignDetail = lazy(() => import("./CampaignDetail"));
const VisitCalendar = lazy(() => import("./VisitCalendar"));
const ForecastPage = lazy(() => import("./ForecastPage"));

export const OPPORTUNITY_READ = "sales.opportunity:read";
export const CAMPAIGN_READ = "sales.campaign:read";
// the deals screens (services/sales: catalog/, quote/, agreement/ endpoints)
export const CATALOG_READ = "sales.catalog:read";
export const QUOTE_READ = "sales.quote:read";
export const QUOTE_WRITE = "sales.quote:write";
export const AGREEMENT_READ = "sales.agreement:read";

export default function SalesPage() {
  const opportunities = (el: ReactNode) => <Gate permission={OPPORTUNITY_READ}>{el}</Gate>;
  const campaigns = (el: ReactNode) => <Gate permission={CAMPAIGN_READ}>{el}</Gate>;
  const gate = (permission: string, el: ReactNode) => <Gate permission={permission}>{el}</Gate>;
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<Navigate to="opportunities" replace />} />
        <Route path="opportunities" element={opportunities(<OpportunityList />)} />
        <Route path="opportunities/:id" element={opportunities(<OpportunityDetail />)} />
        <Route path="catalog" element={gate(CATALOG_READ, <Catalog />)} />
        <Route path="catalog/:id" element={gate(CATALOG_READ, <OfferingDetail />)} />
        <Route path="quotes" element={gate(QUOTE_READ, <QuoteList />)} />
        <Route path="quotes/new" element={gate(QUOTE_WRITE, <QuoteEditor />)} />
        <Route path="quotes/:id" element={gate(QUOTE_READ, <QuoteDetail />)} />
        <Route path="quotes/:id/edit" element={gate(QUOTE_WRITE, <QuoteEditor />)} />
        <Route path="contracts" element={gate(AGREEMENT_READ, <ContractList />)} />
        <Route path="contracts/:id" element={gate(AGREEMENT_READ, <ContractDetail />)} />
        <Route path="leads" element={opportunities(<LeadList />)} />
        <Route path="visits" element={opportunities(<VisitCalendar />)} />
        <Route path="visits/:id" element={opportunities(<VisitCalendar />)} />
        <Route path="forecast" element={opportunities(<ForecastPage />)} />
        <Route path="campaigns" element={campaigns(<CampaignList />)} />
        <Route path="campaigns/:id" element={campaigns(<CampaignDetail />)} />
      </Routes>
    </Suspense>
  );
}
