"""Staff users, service clients and the embedded issuer's signing keys."""
