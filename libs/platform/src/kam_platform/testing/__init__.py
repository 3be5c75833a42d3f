"""Test support: real PostgreSQL and nats-server fixtures, tokens, in-process app clients."""
