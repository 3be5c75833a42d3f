"""Province verification (省级核实): the verifying node's verdict on a customer owned in its subtree."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from kam_customer.models import Base
from kam_platform.db import ReplicatedMixin


class CustomerVerification(ReplicatedMixin, Base):
    """核实记录: owned by the verifying node (the customer owner's parent), flows down and up. No row
    means the customer is not verified yet."""

    __tablename__ = "customer_verification"

    # one verdict per customer (the verifier's latest); not a foreign key: it may arrive before the customer
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), unique=True, index=True)
    customer_owner_node: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # VERIFIED / RETURNED
    reason: Mapped[str | None] = mapped_column(String(500))
    verified_by: Mapped[str] = mapped_column(String(128))
    customer_version: Mapped[int] = mapped_column(BigInteger)
