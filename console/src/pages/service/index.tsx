// The service service's screens (issue 12): tickets, knowledge base, documents, care, expert service.
// One folder and one entry in modules.tsx (docs/console.md); each sub-page is refused without its
// permission, as its menu entry is hidden.
import { Spin } from "antd";
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Gate } from "../../components/Gate";

const TicketList = lazy(() => import("./TicketList"));
const TicketCreate = lazy(() => import("./TicketCreate"));
const TicketDetail = lazy(() => import("./TicketDetail"));
const KnowledgeList = lazy(() => import("./KnowledgeList"));
const KnowledgeView = lazy(() => import("./KnowledgeView"));
const KnowledgeForm = lazy(() => import("./KnowledgeForm"));
const DocumentList = lazy(() => import("./DocumentList"));
const CarePage = lazy(() => import("./CarePage"));
const ExpertPage = lazy(() => import("./ExpertPage"));
const QualityBoard = lazy(() => import("./QualityBoard"));

export default function ServicePage() {
  const ticket = (el: ReactNode) => <Gate permission="service.ticket:read">{el}</Gate>;
  const knowledge = (el: ReactNode) => <Gate permission="service.knowledge:read">{el}</Gate>;
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<Navigate to="tickets" replace />} />
        <Route path="tickets" element={ticket(<TicketList />)} />
        <Route path="tickets/new" element={<Gate permission="service.ticket:write">{<TicketCreate />}</Gate>} />
        <Route path="tickets/:id" element={ticket(<TicketDetail />)} />
        <Route path="quality" element={ticket(<QualityBoard />)} />
        <Route path="knowledge" element={knowledge(<KnowledgeList />)} />
        <Route path="knowledge/new" element={<Gate permission="service.knowledge:write">{<KnowledgeForm />}</Gate>} />
        <Route path="knowledge/:id" element={knowledge(<KnowledgeView />)} />
        <Route path="knowledge/:id/edit" element={<Gate permission="service.knowledge:write">{<KnowledgeForm />}</Gate>} />
        <Route path="documents" element={<Gate permission="service.document:read">{<DocumentList />}</Gate>} />
        <Route path="care" element={<Gate permission="service.care:read">{<CarePage />}</Gate>} />
        <Route path="experts" element={<Gate permission="service.expert:read">{<ExpertPage />}</Gate>} />
      </Routes>
    </Suspense>
  );
}
