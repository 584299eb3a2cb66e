"""Pure domain rules: standard library only, no Flask, no SQLAlchemy (enforced by ruff)."""
