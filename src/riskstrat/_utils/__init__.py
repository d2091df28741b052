"""Small shared utilities used by several stages (not public API)."""
