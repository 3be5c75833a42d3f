"""kam_customer."""
