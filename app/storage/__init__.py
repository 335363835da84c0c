"""Persistence shared by every worker: JWT replay protection and card feedback."""

from app.storage.database import Database, DatabaseError, DatabaseUrlError, open_database
from app.storage.schema import SCHEMA

__all__ = ["SCHEMA", "Database", "DatabaseError", "DatabaseUrlError", "open_database"]
