"""kam-contracts: Python code generated from proto/ (the inter-node wire contract).

Regenerate with `python scripts/gen_proto.py`; `make lint` checks it is current and that changes stay
compatible. Every generated `kam.v1` module is re-exported here (`from kam_contracts import org_pb2`):
the list is generated with the code (kam_contracts.gen), so a new `.proto` needs no edit here.
"""

from kam_contracts.gen import *  # noqa: F403
from kam_contracts.gen import __all__ as __all__
