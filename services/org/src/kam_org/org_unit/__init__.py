"""Org units (组织机构) of a node: departments such as 大客户部 and 政企客户部."""
