"""大客户认定: the effective recognition and grading rules applied to this node's customers propose
candidates (候选) with their reasons; another person confirms (认定) or rejects each one."""
