"""kam-rules: rules as data (规则管理, F5) — rule sets authored at the group and refined by provinces
within declared bounds, flowing down the tree as a platform downward dataset."""
