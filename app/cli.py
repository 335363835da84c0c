"""``ldn-cds``: run the service, report on card feedback, probe health.

- ``ldn-cds serve``: checks the configuration first (issuers file, database URL, card
  wording, database; development mode on a non-loopback host) and refuses to start with one
  clear line if anything is wrong; then runs uvicorn with JSON logs, bounded request heads
  (``app/ops/http_server.py``) and ``--workers`` (``WEB_CONCURRENCY``) processes, listening on
  ``--port`` and on ``CDS_ADMIN_PORT`` if set. Development mode prints a banner saying what it
  does not check.
- ``ldn-cds feedback-report``: acceptance and override rates per card kind, and the
  top override reasons, from the feedback database.
- ``ldn-cds healthcheck``: exit 0 if ``/healthz`` answers (the container HEALTHCHECK).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.request
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import uvicorn

    from app.settings import Settings


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ldn-cds", description="LDN CDS Hooks service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the CDS Hooks API")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=_env_int("PORT", 8000))
    serve.add_argument("--workers", type=int, default=_env_int("WEB_CONCURRENCY", 1))

    report = commands.add_parser("feedback-report", help="acceptance/override rates per card kind")
    report.add_argument("--database-url", default=None, help="default: CDS_DATABASE_URL")
    report.add_argument("--since", default=None, help="only feedback from this date (YYYY-MM-DD) or date-time on")
    report.add_argument("--top", type=int, default=5, help="override reasons listed per card kind")
    report.add_argument("--json", action="store_true", help="machine-readable output")

    health = commands.add_parser("healthcheck", help="exit 0 if the local service answers /healthz")
    health.add_argument("--port", type=int, default=_env_int("PORT", 8000))
    health.add_argument("--timeout", type=float, default=3.0)

    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args)
    elif args.command == "feedback-report":
        sys.exit(_feedback_report(args))
    elif args.command == "healthcheck":
        sys.exit(_healthcheck(args.port, args.timeout))


def _refuse(message: str) -> NoReturn:
    one_line = " ".join(message.split())  # library messages may carry newlines
    print(f"ldn-cds: refusing to start: {one_line}", file=sys.stderr)
    sys.exit(2)


def _check_configuration() -> Settings:
    """Everything create_app() would reject, checked before any worker starts."""
    from pydantic import ValidationError

    from app.cards.templates import TemplateError, load_templates
    from app.security.deployment_secret import load_deployment_secret
    from app.security.issuers import SecurityConfigError, build_registry
    from app.settings import Settings
    from app.storage import DatabaseError, DatabaseUrlError

    try:
        settings = Settings()
        _check_knowledge()
        build_registry(settings)
        load_templates(settings.cards_dir)
        _check_database(settings)
        load_deployment_secret(settings)
        return settings
    except ValidationError as exc:
        _refuse(f"invalid CDS_* environment setting: {exc.errors()[0].get('loc')}: {exc.errors()[0].get('msg')}")
    except (SecurityConfigError, DatabaseUrlError, TemplateError) as exc:
        _refuse(str(exc))
    except DatabaseError as exc:
        _refuse(f"CDS_DATABASE_URL is not usable: {exc}")


def _check_knowledge() -> None:
    """The terminology tables and standard-care data load (they ship inside the package)."""
    from app.knowledge.terminology import terminology
    from app.knowledge.therapies import standard_care

    try:
        terminology()
        standard_care()
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        _refuse(f"the service's terminology data cannot be read (a broken install?): {exc}")


def _check_database(settings: Settings) -> None:
    """Connect and create the tables now: a missing folder, a read-only disk or a PostgreSQL
    server that is down is one clear line here, not a traceback from every worker."""
    from app.storage import SCHEMA, open_database

    database = open_database(settings.database_url, busy_timeout_ms=settings.database_busy_timeout_ms)
    try:
        database.migrate(SCHEMA)
    finally:
        database.close()


def _prepare_multiprocess_metrics(workers: int) -> Path | None:
    """Several workers share Prometheus metrics through files in PROMETHEUS_MULTIPROC_DIR.

    Returns the directory if we created it (removed again when the server stops).
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if workers <= 1 and not directory:
        return None
    path = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="ldn-cds-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # values of a previous run would be added to ours
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return None if directory else path


def _serve(args: argparse.Namespace) -> None:
    from app.ops.development import banner, bind_refusal
    from app.settings import Environment

    settings = _check_configuration()
    if (refusal := bind_refusal(settings, args.host)) is not None:
        _refuse(refusal)
    if settings.admin_port is not None and settings.admin_port == args.port:
        _refuse(f"CDS_ADMIN_PORT ({settings.admin_port}) must differ from the API port ({args.port})")
    if settings.env is Environment.development:
        print(banner(settings, args.host, args.port), file=sys.stderr, flush=True)
    created = _prepare_multiprocess_metrics(args.workers)
    import uvicorn

    from app.ops.http_server import uvicorn_options
    from app.ops.logging import logging_config

    options: dict[str, Any] = {
        "app": "app.main:create_app",
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "log_config": logging_config(settings.log_level),
        "access_log": False,  # our request log replaces it
        "timeout_graceful_shutdown": 10,
        **uvicorn_options(settings),  # bounded request heads: size and time
    }
    try:
        if settings.admin_port is None:
            uvicorn.run(**options)
        else:
            _serve_with_admin_port(uvicorn.Config(**options), settings.admin_port)
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)


def _serve_with_admin_port(config: uvicorn.Config, admin_port: int) -> None:
    """What uvicorn.run does, with a second listening socket: the same workers serve both
    ports, and the app tells them apart by the local port (app/ops/ports.py)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    admin = uvicorn.Config(config.app, host=config.host, port=admin_port, log_config=None)
    try:
        sockets = [config.bind_socket(), admin.bind_socket()]
    except SystemExit:
        _refuse(f"cannot listen on {config.host} ports {config.port} and {admin_port} (CDS_ADMIN_PORT)")
    if config.workers > 1:
        Multiprocess(config, sockets=sockets).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=sockets)
    if not server.started:
        sys.exit(3)  # uvicorn's own exit status for a start-up failure


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    from app.feedback.models import normalize_timestamp

    try:
        return normalize_timestamp(date.fromisoformat(value).isoformat() if len(value) == 10 else value)
    except ValueError:
        print(f"ldn-cds: --since {value!r} is not a date (YYYY-MM-DD) or ISO date-time", file=sys.stderr)
        sys.exit(2)


def _reason_displays(cards_dir: Path) -> dict[tuple[str, str], str]:
    """(card kind, override code) -> the wording the card offered, for clients that send only codes.

    Read straight from ``cards/override-reasons.toml`` and the codes each card file lists, so
    the report works even where the rest of the card wording would not load.
    """
    import tomllib

    from app.cards.kinds import CardKind

    def read(name: str) -> dict[str, object]:
        try:
            return tomllib.loads((cards_dir / name).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return {}

    catalog = read("override-reasons.toml").get("reasons", {})
    displays: dict[tuple[str, str], str] = {}
    if not isinstance(catalog, dict):
        return displays
    for kind in CardKind:
        codes = read(f"{kind.slug}.toml").get("override_reasons", [])
        for code in codes if isinstance(codes, list) else []:
            if isinstance(code, str) and isinstance(catalog.get(code), str):
                displays[(kind.slug, code)] = catalog[code]
    return displays


def _feedback_report(args: argparse.Namespace) -> int:
    from app.feedback.store import FeedbackStore, format_report, report_as_json
    from app.settings import Settings
    from app.storage import SCHEMA, DatabaseError, DatabaseUrlError, open_database
    from app.storage.database import SqliteDatabase

    settings = Settings()
    url = args.database_url or settings.database_url
    try:
        database = open_database(url)
    except DatabaseUrlError as exc:
        print(f"ldn-cds: {exc}", file=sys.stderr)
        return 2
    if isinstance(database, SqliteDatabase) and not database.path.exists():
        print(f"ldn-cds: no feedback database at {database.path}", file=sys.stderr)
        return 1
    try:
        database.migrate(SCHEMA)
        report = FeedbackStore(database).report(
            since=_since(args.since), top=args.top, reason_displays=_reason_displays(settings.cards_dir)
        )
    except DatabaseError as exc:
        print(f"ldn-cds: {exc}", file=sys.stderr)
        return 1
    finally:
        database.close()
    print(json.dumps(report_as_json(report), indent=2) if args.json else format_report(report))
    return 0


def _healthcheck(port: int, timeout: float) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    main()
