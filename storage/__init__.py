"""Persistence: SQLAlchemy models and repositories, Alembic migrations, and the vault.

The only package that touches the database.
"""
