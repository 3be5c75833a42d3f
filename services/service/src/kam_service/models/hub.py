"""TMF630 /hub listeners of TMF621 trouble ticket events and their pending deliveries; the columns are
the platform's (`kam_platform.hub`)."""

from __future__ import annotations

from kam_platform.hub import HubDeliveryMixin, HubSubscriptionMixin
from kam_service.models import Base


class HubSubscription(HubSubscriptionMixin, Base):
    __tablename__ = "hub_subscription"


class HubDelivery(HubDeliveryMixin, Base):
    """A TMF event waiting to be POSTed to one listener; deleted once delivered (or given up)."""

    __tablename__ = "hub_delivery"
