import { lazy, Suspense } from "react";
import { Spin } from "antd";
import { Route, Routes } from "react-router";

const CustomerList = lazy(() => import("./CustomerList"));
const CustomerCreate = lazy(() => import("./CustomerCreate"));
const CustomerEdit = lazy(() => import("./CustomerEdit"));
const Customer360 = lazy(() => import("./Customer360"));
const DuplicatesQueue = lazy(() => import("./DuplicatesQueue"));
const MergeProposals = lazy(() => import("./MergeProposals"));

export default function CustomersPage() {
  return (
    <Suspense fallback={<Spin />}>
      <Routes>
        <Route index element={<CustomerList />} />
        <Route path="new" element={<CustomerCreate />} />
        <Route path="duplicates" element={<DuplicatesQueue />} />
        <Route path="merge-proposals" element={<MergeProposals />} />
        <Route path=":id" element={<Customer360 />} />
        <Route path=":id/edit" element={<CustomerEdit />} />
      </Routes>
    </Suspense>
  );
}
