"""TMF630 notification listeners registered on /hub and their pending deliveries (schema ``customer``);
the columns are the platform's (`kam_platform.hub`)."""

from __future__ import annotations

from kam_customer.models import Base
from kam_platform.hub import HubDeliveryMixin, HubSubscriptionMixin


class HubSubscription(HubSubscriptionMixin, Base):
    __tablename__ = "hub_subscription"


class HubDelivery(HubDeliveryMixin, Base):
    """A TMF event waiting to be POSTed to one listener; deleted once delivered (or given up)."""

    __tablename__ = "hub_delivery"
