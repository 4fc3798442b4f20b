"""Departments: the district → bureau → street office tree."""
