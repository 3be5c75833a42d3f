"""Documents (文档管理, F4): versioned files linked to a customer, opportunity, contract or ticket."""
