"""Cases and the workflow that moves them (DESIGN §2)."""
