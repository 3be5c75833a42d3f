"""The permission registry: every installed service's spec registers its permissions and default grants
with org (idempotent, versioned; see service.py)."""
