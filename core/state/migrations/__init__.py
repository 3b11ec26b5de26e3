"""Migrations of the core state app."""
