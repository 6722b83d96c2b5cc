"""Relational storage: the engine, the tables and their Alembic migrations."""
