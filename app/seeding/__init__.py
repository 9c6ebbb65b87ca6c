"""Filling the store: fixture files (and, later, generated inventories)."""
