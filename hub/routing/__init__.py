"""Routing: categories, the category suggester, routing rules and dispatch decisions."""
