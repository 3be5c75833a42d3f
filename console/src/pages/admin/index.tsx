import { Spin } from "antd";
import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router";

const StaffPage = lazy(() => import("./StaffPage"));
const TeamsPage = lazy(() => import("./TeamsPage"));
const OrgUnitsPage = lazy(() => import("./OrgUnitsPage"));
const RolesPage = lazy(() => import("./RolesPage"));
const RulesPage = lazy(() => import("./RulesPage"));

export default function AdminPage() {
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<Navigate to="staff" replace />} />
        <Route path="staff" element={<StaffPage />} />
        <Route path="teams" element={<TeamsPage />} />
        <Route path="org-units" element={<OrgUnitsPage />} />
        <Route path="roles" element={<RolesPage />} />
        <Route path="rules" element={<RulesPage />} />
      </Routes>
    </Suspense>
  );
}
