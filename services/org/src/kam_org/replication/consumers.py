"""The org service's apply consumers on the node's inbound streams (lifespan hooks), on the platform's
`Replicator` (docs/service-kit.md).

Upward streams carry the subtree's org units, staff, teams and audit rows (roles are the shared
catalogue and are not applied) and its resync requests; downward streams resync requests and the
restore copies a restored node's parent sends it (org publishes no reference data down).
"""

from __future__ import annotations

from kam_org.models import SCHEMA
from kam_platform.replication import plug_replication

from .handlers import OrgApplier

# resync requests from below too: the parent of a node restored from a backup answers with restore copies
UP_SUBJECTS = (
    *(f"up.*.org.{aggregate}.>" for aggregate in ("org_unit", "staff", "team", "audit")),
    "up.*.sync.>",
)
DOWN_SUBJECTS = ("down.*.sync.>", *(f"down.*.org.{aggregate}.>" for aggregate in ("org_unit", "staff", "team")))

REPLICATOR = plug_replication(service="org", schema=SCHEMA, up=UP_SUBJECTS, down=DOWN_SUBJECTS, applier=OrgApplier)
start, stop = REPLICATOR.start, REPLICATOR.stop
consumers_for = REPLICATOR.consumers
