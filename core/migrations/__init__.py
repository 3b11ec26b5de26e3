"""Migrations of the core app (tortoise built-in migrations)."""
