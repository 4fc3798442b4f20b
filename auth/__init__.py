"""Tokens, the embedded issuer, roles and the permission map as data. A leaf: imports nothing of ours."""
