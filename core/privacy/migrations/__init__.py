"""Migrations of the core privacy app."""
