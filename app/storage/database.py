"""The service's one database: SQLite by default, PostgreSQL when the URL says so.

Used for the things that must be shared by every worker and survive a restart: JWT
``jti`` values already seen (replay protection across workers) and card feedback.

Both backends are synchronous (stdlib ``sqlite3``, ``psycopg`` 3) with one connection per
thread; callers on the event loop run them in a worker thread. Every write is its own
short transaction, committed before the call returns, so an HTTP 2xx that follows a
write is never ahead of the disk.

SQL is written once with ``?`` placeholders and ``INSERT ... ON CONFLICT DO NOTHING``,
which both SQLite (>= 3.24) and PostgreSQL understand.

URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
``postgresql://user:password@host:5432/dbname`` (``postgres://`` and
``postgresql+psycopg://`` are accepted too).
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Params = Sequence[Any]


class DatabaseError(Exception):
    """The database could not be reached or refused the operation (a 503, not a 4xx)."""


class DatabaseUrlError(ValueError):
    """CDS_DATABASE_URL is not one we can use; the service must not start."""


class Transaction(ABC):
    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Run one query; its rows."""


class Database(ABC):
    dialect: str

    @abstractmethod
    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        """A transaction committed when the block ends, rolled back if it raises.

        ``durable`` (the default): the commit is on stable storage when the block ends,
        surviving a power loss. ``durable=False`` still survives a crash or SIGKILL of our
        process, but a power loss may forget the last few commits; it saves an fsync
        (about 3 ms here) and is what the per-request jti write uses.
        """

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, safe to log (no password)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`DatabaseError` unless the database answers a read (for /readyz)."""

    def migrate(self, statements: Sequence[str]) -> None:
        with self.transaction() as tx:
            for statement in statements:
                tx.execute(statement)


# ---------------------------------------------------------------------------- SQLite


class _SqliteTransaction(Transaction):
    def __init__(self, connection: sqlite3.Connection):
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._connection.execute(sql, tuple(params)).rowcount

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, tuple(params)).fetchall()


class SqliteDatabase(Database):
    """SQLite in WAL mode: readers never wait, writers wait up to the busy timeout.

    Durable transactions run with ``synchronous=FULL`` (the WAL is fsynced at commit),
    the others with ``synchronous=NORMAL`` (in WAL mode: safe against a process crash,
    not against a power loss).
    """

    dialect = "sqlite"

    def __init__(self, path: Path, *, busy_timeout_ms: int):
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Every transaction writes (BEGIN IMMEDIATE). This process's threads queue here, in
        # order, rather than in SQLite's busy handler, which polls with growing sleeps: under
        # 16 concurrent calls a thread could lose every poll for the whole busy timeout and the
        # call fail. Other processes (workers) still meet the busy timeout, far less often.
        self._write_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(
                    self.path,
                    timeout=self._busy_timeout_ms / 1000,
                    isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                    check_same_thread=False,  # only so that close() can close it
                )
                connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
            except sqlite3.Error as exc:
                raise DatabaseError(f"cannot open SQLite database {self.path}: {exc}") from exc
            self._local.connection = connection
            self._local.durable = True
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        with self._write_lock:
            yield from self._transaction(durable)

    def _transaction(self, durable: bool) -> Iterator[Transaction]:
        connection = self._connection()
        try:
            if self._local.durable != durable:
                connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
                self._local.durable = durable
            connection.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlocks
        except sqlite3.Error as exc:
            raise DatabaseError(f"SQLite: {exc}") from exc
        try:
            yield _SqliteTransaction(connection)
        except BaseException as exc:
            connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise DatabaseError(f"SQLite: {exc}") from exc
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            connection.execute("ROLLBACK")
            raise DatabaseError(f"SQLite: {exc}") from exc

    def ping(self) -> None:
        try:
            self._connection().execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise DatabaseError(f"SQLite: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def describe(self) -> str:
        return f"sqlite:{self.path}"


# ------------------------------------------------------------------------ PostgreSQL


class _PostgresTransaction(Transaction):
    def __init__(self, cursor: Any):
        self._cursor = cursor

    def execute(self, sql: str, params: Params = ()) -> int:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        return int(self._cursor.rowcount)

    def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", "%s"), tuple(params))
        return list(self._cursor.fetchall())


class PostgresDatabase(Database):
    """PostgreSQL for several instances behind a load balancer; one connection per thread.

    A connection that broke (server restart, network) is replaced on next use; the
    statement that met the break fails with :class:`DatabaseError` (a 503) rather than
    being silently retried, because a retried insert could mis-report a replay.
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, connect_timeout_seconds: int = 5, statement_timeout_ms: int = 5000):
        self._url = url
        self._connect_timeout = connect_timeout_seconds
        self._statement_timeout_ms = statement_timeout_ms
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        import psycopg

        connection = getattr(self._local, "connection", None)
        if connection is not None and (connection.closed or connection.broken):
            connection = None
        if connection is None:
            try:
                connection = psycopg.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=self._connect_timeout,
                    options=f"-c statement_timeout={int(self._statement_timeout_ms)}",
                    application_name="ldn-cds",
                )
            except psycopg.Error as exc:
                raise DatabaseError(f"cannot connect to PostgreSQL at {self.describe()}: {type(exc).__name__}") from exc
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        import psycopg

        connection = self._connection()
        try:
            with connection.transaction(), connection.cursor() as cursor:
                if not durable:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                yield _PostgresTransaction(cursor)
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}: {exc.diag.message_primary or ''}") from exc

    def ping(self) -> None:
        import psycopg

        try:
            self._connection().execute("SELECT 1").fetchone()
        except psycopg.Error as exc:
            raise DatabaseError(f"PostgreSQL: {type(exc).__name__}") from exc

    def migrate(self, statements: Sequence[str]) -> None:
        # Several workers start at once; CREATE ... IF NOT EXISTS is not race-free in PostgreSQL.
        with self.transaction() as tx:
            tx.fetchall("SELECT pg_advisory_xact_lock(4242001)")
            for statement in statements:
                tx.execute(statement)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def describe(self) -> str:
        parts = urlsplit(self._url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def open_database(url: str, *, busy_timeout_ms: int = 2000) -> Database:
    """The database for a URL; connections are opened lazily, per thread."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or url in {"sqlite:///", "sqlite:///:memory:"}:
            raise DatabaseUrlError(
                "CDS_DATABASE_URL: use sqlite:///relative/path.db or sqlite:////absolute/path.db "
                "(an in-memory database is not shared between threads or workers)"
            )
        return SqliteDatabase(Path(url.removeprefix("sqlite:///")), busy_timeout_ms=busy_timeout_ms)
    if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        return PostgresDatabase("postgresql" + url[len(scheme) :])
    raise DatabaseUrlError(f"CDS_DATABASE_URL: unsupported scheme {scheme!r}; use sqlite:/// or postgresql://")
