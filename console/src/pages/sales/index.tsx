// The sales screens (issue 11): the pipeline — opportunities as a table or a kanban by stage, and an
// opportunity's detail. One folder and one entry in modules.tsx (docs/console.md); each sub-page is
// refused without its permission, as its menu entry is hidden.
import { Spin } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Gate } from "../../components/Gate";

const OpportunityList = lazy(() => import("./OpportunityList"));
const OpportunityDetail = lazy(() => import("./OpportunityDetail"));
// marketing, leads, visits, forecast
const LeadList = lazy(() => import("./LeadList"));
const CampaignList = lazy(() => import("./CampaignList"));
const CampaignDetail = lazy(() => import("./CampaignDetail"));
const VisitCalendar = lazy(() => import("./VisitCalendar"));
const ForecastPage = lazy(() => import("./ForecastPage"));

export const OPPORTUNITY_READ = "sales.opportunity:read";
export const CAMPAIGN_READ = "sales.campaign:read";

export default function SalesPage() {
  const opportunities = (el: ReactNode) => <Gate permission={OPPORTUNITY_READ}>{el}</Gate>;
  const campaigns = (el: ReactNode) => <Gate permission={CAMPAIGN_READ}>{el}</Gate>;
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<Navigate to="opportunities" replace />} />
        <Route path="opportunities" element={opportunities(<OpportunityList />)} />
        <Route path="opportunities/:id" element={opportunities(<OpportunityDetail />)} />
        <Route path="leads" element={opportunities(<LeadList />)} />
        <Route path="visits" element={opportunities(<VisitCalendar />)} />
        <Route path="forecast" element={opportunities(<ForecastPage />)} />
        <Route path="campaigns" element={campaigns(<CampaignList />)} />
        <Route path="campaigns/:id" element={campaigns(<CampaignDetail />)} />
      </Routes>
    </Suspense>
  );
}
