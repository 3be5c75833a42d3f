// The sales screens (issue 11): the pipeline — opportunities as a table or a kanban by stage, and an
// opportunity's detail. One folder and one entry in modules.tsx (docs/console.md); each sub-page is
// refused without its permission, as its menu entry is hidden.
import { Spin } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Gate } from "../../components/Gate";

const OpportunityList = lazy(() => import("./OpportunityList"));
const OpportunityDetail = lazy(() => import("./OpportunityDetail"));

export const OPPORTUNITY_READ = "sales.opportunity:read";

export default function SalesPage() {
  const opportunities = (el: ReactNode) => <Gate permission={OPPORTUNITY_READ}>{el}</Gate>;
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<Navigate to="opportunities" replace />} />
        <Route path="opportunities" element={opportunities(<OpportunityList />)} />
        <Route path="opportunities/:id" element={opportunities(<OpportunityDetail />)} />
      </Routes>
    </Suspense>
  );
}
