"""Who manages whom, asked of the node's org service through its published client (`kam_org.client`)
with the caller's token: the approver of a quote's discount is the account manager's manager."""

from __future__ import annotations

from fastapi import Request

from kam_org.client import OrgClient
from kam_platform.settings import Settings
from kam_platform.tmf import base_url


def org_client(request: Request, settings: Settings) -> OrgClient:
    """`app.state.org_client` when the app was given one (tests, a sidecar), else the node's public URL,
    else the node address the caller used (every node routes `/api/v1/org`)."""
    given = getattr(request.app.state, "org_client", None)
    return given if isinstance(given, OrgClient) else OrgClient(settings.public_url or base_url(request))
