"""kam_org."""
