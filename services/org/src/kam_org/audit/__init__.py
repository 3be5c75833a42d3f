"""The append-only audit trail of the org schema."""
