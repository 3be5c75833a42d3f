"""Tokens: the password grant, the operator token, the node's signing keys and JWKS."""
