"""The demo district: departments, staff, routing rules and realistic cases."""
