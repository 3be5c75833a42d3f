"""Care (客户关怀): plans per customer or segment, activities with cost and feedback, the daily job."""
