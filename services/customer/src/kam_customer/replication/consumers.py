"""The customer service's apply consumers on the node's inbound streams (lifespan hooks): customer
and sync events both ways, applied by `CustomerApplier` on the platform's `Replicator`."""

from __future__ import annotations

from kam_customer.models import SCHEMA
from kam_platform.replication import plug_replication

from .handlers import CustomerApplier

SUBJECTS = ("customer", "sync")

REPLICATOR = plug_replication(service="customer", schema=SCHEMA, subjects=SUBJECTS, applier=CustomerApplier)
start, stop = REPLICATOR.start, REPLICATOR.stop
consumers_for = REPLICATOR.consumers
