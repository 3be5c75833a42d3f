"""kam_platform."""
