"""Working-day calendar and deadline policy (DESIGN §3), pure and database-free."""
