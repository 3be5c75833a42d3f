"""ORM models of the org schema."""

from kam_org.models.audit import Audit, Outbox
from kam_org.models.base import SCHEMA, Base
from kam_org.models.login_throttle import LoginThrottle
from kam_org.models.node import Node
from kam_org.models.org_unit import OrgUnit
from kam_org.models.permission_registry import PermissionRegistration
from kam_org.models.replication import DeadLetter, Inbox
from kam_org.models.role import Permission, Role, RolePermission
from kam_org.models.signing_key import SigningKey
from kam_org.models.staff import Staff, StaffRole
from kam_org.models.team import Team, TeamMember

__all__ = [
    "SCHEMA",
    "Audit",
    "Base",
    "DeadLetter",
    "Inbox",
    "LoginThrottle",
    "Node",
    "OrgUnit",
    "Outbox",
    "Permission",
    "PermissionRegistration",
    "Role",
    "RolePermission",
    "SigningKey",
    "Staff",
    "StaffRole",
    "Team",
    "TeamMember",
]
