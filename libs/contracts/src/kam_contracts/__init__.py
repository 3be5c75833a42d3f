"""kam-contracts: Python code generated from proto/ (the inter-node wire contract).

Regenerate with `make proto`; `make lint` checks it is current and that changes stay compatible.
"""

from kam_contracts.gen.kam.v1 import customer_pb2, envelope_pb2, org_pb2, rules_pb2

__all__ = ["customer_pb2", "envelope_pb2", "org_pb2", "rules_pb2"]
