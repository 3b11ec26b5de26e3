"""A migrations package holding no migration yet."""
