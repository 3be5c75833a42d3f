"""Roles and the permission catalogue (职责与权限管理, F19)."""
