"""``make bench``: latency, throughput and memory of the CDS services, with targets.

What runs, in order (about 4 minutes on 2 cores):

1. In-process (no network): each workload posted straight into the ASGI app, one at a
   time. "pipeline" is record assembly -> rules -> cards; "request" adds JSON parsing,
   request validation and response serialisation: the service's own time per call.
2. FHIR fallback: the same typical patient without prefetch, read from a loopback FHIR
   server (``bench.fhir_backend``) that adds 100 ms to every query. Compared with the
   slowest single query, timed directly against the same server.
3. HTTP (``bench.wrk``): the service as shipped (``ldn-cds serve``, one worker) and the
   bare FastAPI endpoint (``bench.bare_app``, the yardstick) each get the same 50 distinct
   patients' requests in turn from wrk: throughput at 16 keep-alive connections, latency
   at one. Without wrk, the bench says how to install it and falls back to the Python
   load generator (``bench.loadgen``), naming it in the report. Peak memory is the
   worker's VmHWM from ``/proc``.
4. Profile: pyinstrument over in-process requests; the project functions that take
   the most time.

Prints a markdown table (also written to ``bench/results.md``) and each target as met
or not. Every loop is bounded by a count and a time.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import wrk
from bench.asgi import AsgiDriver
from bench.servers import ServerProcess, free_port, start_module
from bench.stats import load_average, machine, percentile
from bench.workloads import (
    HEAVY,
    SERVICE_FOR_HOOK,
    TYPICAL,
    Size,
    count_by_type,
    hook_request,
    patient_id_for,
    patient_workload,
)

RESULTS_FILE = Path(__file__).resolve().parent / "results.md"
HOOKS = ("order-select", "patient-view")
FHIR_DELAY_MS = 100.0

# Targets (DESIGN.md §4 and the performance issues; the HTTP ones are in bench.wrk).
TYPICAL_P50_MS = 5.0
TYPICAL_P99_MS = 20.0
HEAVY_P50_MS = 50.0
FALLBACK_RATIO = 1.3
WORKER_MEMORY_MIB = 200.0


@dataclass
class Timings:
    values_ms: list[float] = field(default_factory=list)

    def p(self, q: float) -> float:
        return percentile(self.values_ms, q)


@dataclass
class Row:
    workload: str
    hook: str
    resources: int
    payload_kib: float
    pipeline: Timings | None = None
    request: Timings | None = None


@dataclass
class Fallback:
    slowest_query_ms: float = math.nan
    slowest_query: str = ""
    query_ms: dict[str, float] = field(default_factory=dict)
    request: dict[str, Timings] = field(default_factory=dict)
    round_trips: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- in-process


def _settings(tmp: Path, **overrides: Any) -> Any:
    from app.settings import Environment, Settings

    return Settings(env=Environment.development, database_url=f"sqlite:///{tmp}/inprocess.db", **overrides)


def _create_app(tmp: Path, today: date, **overrides: Any) -> Any:
    from app.main import create_app

    return create_app(_settings(tmp, **overrides), today=lambda: today)


async def _time_calls(call: Callable[[], Any], *, iterations: int, max_seconds: float, warmup: int = 3) -> Timings:
    for _ in range(warmup):
        await call()
    timings = Timings()
    started = time.perf_counter()
    for _ in range(iterations):
        began = time.perf_counter_ns()
        await call()
        timings.values_ms.append((time.perf_counter_ns() - began) / 1e6)
        if time.perf_counter() - started > max_seconds:
            break
    return timings


def _pipeline_call(app: Any, service_id: str, body: bytes) -> Callable[[], Any]:
    """Record assembly -> rules -> cards -> card identity alone, through the app's own objects."""
    from app.api.hook_context import hook_data
    from app.cds.models import HookRequest
    from app.deadline import Deadline
    from app.services.catalog import SERVICES

    service = SERVICES[service_id]
    data = hook_data(service, HookRequest.model_validate(orjson.loads(body)))
    pipeline = app.state.pipeline

    async def call() -> Any:
        return await pipeline.cards(service, data, None, Deadline.after(5.0))

    return call


async def _in_process(app: Any, rows: list[Row], bodies: dict[tuple[str, str], bytes], quick: bool) -> None:
    async with AsgiDriver(app) as driver:
        for row in rows:
            size_name = row.workload
            body = bodies[(size_name, row.hook)]
            path = f"/cds-services/{SERVICE_FOR_HOOK[row.hook]}"
            status, answer = await driver.post(path, body)
            if status != 200:
                raise RuntimeError(f"{size_name} {row.hook}: {status} {answer[:300]!r}")
            heavy = size_name == HEAVY.name
            iterations = (40 if heavy else 400) // (4 if quick else 1)
            max_seconds = 8.0 if heavy else 6.0

            async def request(path: str = path, body: bytes = body) -> None:
                await driver.post(path, body)

            row.request = await _time_calls(request, iterations=iterations, max_seconds=max_seconds)
            pipeline = _pipeline_call(app, SERVICE_FOR_HOOK[row.hook], body)
            row.pipeline = await _time_calls(pipeline, iterations=iterations, max_seconds=max_seconds)
            print(
                f"  {size_name:8} {row.hook:13} request p50 {row.request.p(50):7.2f} ms  p99 {row.request.p(99):7.2f} ms"
                + (f"   pipeline p50 {row.pipeline.p(50):7.2f} ms" if row.pipeline is not None else "")
            )


# ---------------------------------------------------------------- FHIR fallback


def _single_queries(base_url: str, size: Size, medication_ids: list[str]) -> dict[str, float]:
    """Median time of each query the service would make, one at a time (5 tries each)."""
    from app.fhir.prefetch import PREFETCH_TEMPLATES, RECORD_KEYS

    patient = patient_id_for(size)
    paths = {key: PREFETCH_TEMPLATES[key].replace("{{context.patientId}}", patient) for key in RECORD_KEYS}
    paths.update({f"Medication/{mid}": f"Medication/{mid}" for mid in medication_ids[:1]})
    medians: dict[str, float] = {}
    with httpx.Client(timeout=10.0) as client:
        for name, path in paths.items():
            times = []
            for _ in range(5):
                began = time.perf_counter()
                response = client.get(f"{base_url}/{path}", headers={"Accept": "application/fhir+json"})
                response.raise_for_status()
                times.append((time.perf_counter() - began) * 1000)
            medians[name] = statistics.median(times)
    return medians


async def _fallback_in_process(app: Any, bodies: dict[str, bytes], result: Fallback, quick: bool) -> None:
    async with AsgiDriver(app) as driver:
        trips: list[tuple[str, float, float]] = []
        try:  # observe the service's own FHIR round trips (bench-only peek at the app's client)
            http = app.state.fhir_client._http
            starts: dict[int, float] = {}

            async def on_request(request: httpx.Request) -> None:
                starts[id(request)] = time.perf_counter()

            async def on_response(response: httpx.Response) -> None:
                parts = response.request.url.path.rstrip("/").split("/")
                label = "Medication read" if len(parts) > 1 and parts[-2] == "Medication" else f"{parts[-1]} search"
                trips.append((label, starts.get(id(response.request), math.nan), time.perf_counter()))

            http.event_hooks = {"request": [on_request], "response": [on_response]}
        except AttributeError:
            http = None
        for hook, body in bodies.items():
            path = f"/cds-services/{SERVICE_FOR_HOOK[hook]}"
            status, answer = await driver.post(path, body)
            if status != 200:
                raise RuntimeError(f"fallback {hook}: {status} {answer[:300]!r}")
            if hook == "order-select" and http is not None:
                trips.clear()
                began = time.perf_counter()
                await driver.post(path, body)
                for name, start, end in sorted(trips, key=lambda t: t[1]):
                    result.round_trips.append(f"{name}: {1000 * (start - began):.0f}-{1000 * (end - began):.0f} ms")
            result.request[hook] = await _time_calls(
                partial(driver.post, path, body),
                iterations=6 if quick else 20,
                max_seconds=8.0,
                warmup=1,
            )
            print(
                f"  fallback {hook:13} request p50 {result.request[hook].p(50):7.1f} ms  p99 {result.request[hook].p(99):7.1f} ms"
            )


# ---------------------------------------------------------------- report


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _pair(t: Timings | None, digits: int = 1) -> str:
    return "n/a" if t is None else f"{_fmt(t.p(50), digits)} / {_fmt(t.p(99), digits)}"


def results_markdown(
    rows: list[Row],
    fallback_rows: list[Row],
    fallback: Fallback,
    targets: list[tuple[str, str, bool | None]],
    hot_spots: list[str],
    http: wrk.HttpRun | None,
    when: str,
    load_before: str = "n/a",
) -> str:
    lines = [
        f"### Benchmark results ({when})",
        "",
        (
            f"Machine: {machine()}. 1-minute load average before the run: {load_before} (other work on the machine "
            "skews absolute numbers, the ratio to the bare endpoint less)."
        ),
        "",
        (
            "In-process, one call at a time (no network): pipeline = record assembly, rules and cards; "
            "request = the whole call (JSON parse, validation, pipeline, serialisation)."
        ),
        "",
        "| Workload | Hook | Resources | Payload (KiB) | Pipeline p50 / p99 (ms) | Request p50 / p99 (ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in [*rows, *fallback_rows]:
        lines.append(
            f"| {row.workload} | {row.hook} | {row.resources} | {row.payload_kib:.{0 if row.payload_kib >= 10 else 1}f} "
            f"| {_pair(row.pipeline, 2)} | {_pair(row.request, 2)} |"
        )
    lines += [
        "",
        (
            f"FHIR fallback: loopback FHIR server adding {FHIR_DELAY_MS:.0f} ms to every query, one page per search; "
            f"slowest single query ({fallback.slowest_query}) {_fmt(fallback.slowest_query_ms)} ms "
            "(median of 5, timed directly)."
        ),
    ]
    if fallback.round_trips:
        lines.append(
            "Service's own FHIR round trips for one order-select call: " + "; ".join(fallback.round_trips) + "."
        )
    if http is not None:
        lines += ["", "HTTP:", "", *wrk.table_markdown(http)]
    lines += ["", "| Target | Measured | Met |", "|---|---|---|"]
    for name, measured, met in targets:
        lines.append(f"| {name} | {measured} | {'met' if met else ('not met' if met is not None else 'n/a')} |")
    if hot_spots:
        lines += [
            "",
            "Profile (pyinstrument, in-process; own = self time + direct C calls):",
            "",
            "```",
            *hot_spots,
            "```",
        ]
    return "\n".join(lines) + "\n"


def _targets(rows: list[Row], fallback: Fallback, http: wrk.HttpRun | None) -> list[tuple[str, str, bool | None]]:
    out: list[tuple[str, str, bool | None]] = []

    def find(workload: str, hook: str) -> Row | None:
        return next((r for r in rows if r.workload == workload and r.hook == hook), None)

    for hook in HOOKS:
        row = find(TYPICAL.name, hook)
        if row and row.request:
            p50, p99 = row.request.p(50), row.request.p(99)
            out.append((f"typical {hook}: server p50 ≤ {TYPICAL_P50_MS:g} ms", f"{p50:.2f} ms", p50 <= TYPICAL_P50_MS))
            out.append((f"typical {hook}: server p99 ≤ {TYPICAL_P99_MS:g} ms", f"{p99:.2f} ms", p99 <= TYPICAL_P99_MS))
    if http is not None:
        out += wrk.targets(http)
    for hook in HOOKS:
        row = find(HEAVY.name, hook)
        if row and row.request:
            p50 = row.request.p(50)
            out.append((f"heavy {hook}: server p50 ≤ {HEAVY_P50_MS:g} ms", f"{p50:.1f} ms", p50 <= HEAVY_P50_MS))
    for hook, timings in fallback.request.items():
        if not math.isnan(fallback.slowest_query_ms):
            ratio = timings.p(50) / fallback.slowest_query_ms
            out.append(
                (
                    f"fallback {hook}: latency ≤ {FALLBACK_RATIO}× slowest single query",
                    f"{timings.p(50):.0f} ms = {ratio:.2f}× {fallback.slowest_query_ms:.0f} ms",
                    ratio <= FALLBACK_RATIO,
                )
            )
    peak_mib = http.peak_mib if http is not None else None
    out.append(
        (
            f"one worker's peak memory under load ≤ {WORKER_MEMORY_MIB:g} MiB",
            f"{_fmt(peak_mib, 0)} MiB",
            None if peak_mib is None else peak_mib <= WORKER_MEMORY_MIB,
        )
    )
    return out


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--seconds", type=int, default=4, help="measured seconds per HTTP throughput run (default 4; heavy 1.5×)"
    )
    parser.add_argument("--seconds-1", type=int, default=3, help="measured seconds per one-connection run (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=wrk.ROUNDS, help="HTTP runs per server and measurement, taking turns (default 2)"
    )
    parser.add_argument("--concurrency", type=int, default=wrk.CONNECTIONS, help="keep-alive connections (default 16)")
    parser.add_argument(
        "--patients", type=int, default=wrk.PATIENTS, help="distinct patients rotated over HTTP (default 50)"
    )
    parser.add_argument(
        "--python-loadgen", action="store_true", help="HTTP load from the Python generator even if wrk is installed"
    )
    parser.add_argument("--quick", action="store_true", help="short runs, to check the harness (numbers are rough)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="in-process and fallback only")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    seconds = 2 if args.quick else args.seconds
    seconds_1 = 2 if args.quick else args.seconds_1
    today = date.today()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    load_at_start = load_average()
    print(f"# LDN CDS bench — {when}\n# {machine()}\n")

    sizes = (TYPICAL, HEAVY)
    bodies: dict[tuple[str, str], bytes] = {}
    rows: list[Row] = []
    for size in sizes:
        resources = patient_workload(size, today)
        counts = count_by_type(resources)
        print(f"workload {size.name}: {len(resources)} resources {counts}")
        for hook in HOOKS:
            body = orjson.dumps(hook_request(size, hook, today))
            bodies[(size.name, hook)] = body
            rows.append(Row(size.name, hook, len(resources), len(body) / 1024))

    tmp = Path(tempfile.mkdtemp(prefix="ldn-bench-"))
    servers: list[ServerProcess] = []
    fallback = Fallback()
    fallback_rows: list[Row] = []
    hot_spots: list[str] = []
    http: wrk.HttpRun | None = None
    try:
        print("\n## In-process")
        asyncio.run(_in_process(_create_app(tmp, today), rows, bodies, args.quick))

        print(f"\n## FHIR fallback (+{FHIR_DELAY_MS:.0f} ms per query)")
        port = free_port()
        backend = start_module(
            "fhir-backend",
            "bench.fhir_backend",
            [
                "--port",
                str(port),
                "--delay-ms",
                str(FHIR_DELAY_MS),
                "--page-size",
                "1000",
                "--today",
                today.isoformat(),
            ],
            port,
            tmp,
        )
        servers.append(backend)
        backend.wait_ready(b"GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n")
        medication_ids = [r["id"] for r in patient_workload(TYPICAL, today) if r["resourceType"] == "Medication"]
        fallback.query_ms = _single_queries(backend.base_url, TYPICAL, medication_ids)
        fallback.slowest_query, fallback.slowest_query_ms = max(
            ((k, v) for k, v in fallback.query_ms.items() if not k.startswith("Medication/")), key=lambda kv: kv[1]
        )
        print("  single queries (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in fallback.query_ms.items()))
        fallback_bodies = {
            hook: orjson.dumps(hook_request(TYPICAL, hook, today, with_prefetch=False, fhir_server=backend.base_url))
            for hook in HOOKS
        }
        asyncio.run(_fallback_in_process(_create_app(tmp, today), fallback_bodies, fallback, args.quick))
        if fallback.round_trips:
            print("  round trips of one order-select call: " + "; ".join(fallback.round_trips))
        for hook in HOOKS:
            fallback_rows.append(
                Row(
                    f"{TYPICAL.name} via FHIR fallback",
                    hook,
                    len(patient_workload(TYPICAL, today)),
                    len(fallback_bodies[hook]) / 1024,
                    request=fallback.request.get(hook),
                )
            )

        if not args.no_http:
            print(f"\n## HTTP, {args.patients} patients rotated, {args.concurrency} connections and 1")
            # The fallback row needs the loopback FHIR server, which serves the one bench patient.
            fallback_http = [
                wrk.bodies_on_disk(tmp / "http", f"{TYPICAL.name} via FHIR fallback", hook, [fallback_bodies[hook]])
                for hook in HOOKS
            ]
            http = wrk.measure(
                tmp / "http",
                today,
                patients=args.patients,
                connections=args.concurrency,
                seconds=seconds,
                seconds_1=seconds_1,
                rounds=1 if args.quick else args.rounds,
                force_python=args.python_loadgen,
                service_only=fallback_http,
            )
            print(f"  peak RSS (VmHWM): service {_fmt(http.peak_mib, 0)} MiB")
    finally:
        for server in servers:
            server.stop()

    if not args.no_profile:
        from bench.profile import profile_requests, summary_lines

        print("\n## Profile")
        for size, iterations in ((TYPICAL, 100), (HEAVY, 10)):
            profiler = profile_requests(
                _create_app(tmp, today),
                size,
                "order-select",
                today,
                iterations // (4 if args.quick else 1),
                patients=10 if size is TYPICAL else 3,
            )
            lines = summary_lines(profiler, limit=10)
            hot_spots += [f"{size.name} order-select, {iterations} requests (patients rotated):", *lines, ""]
            print(f"  {size.name} order-select:")
            print("\n".join("    " + line for line in lines))
    shutil.rmtree(tmp, ignore_errors=True)

    targets = _targets(rows, fallback, http)
    markdown = results_markdown(
        rows,
        fallback_rows,
        fallback,
        targets,
        hot_spots[:-1] if hot_spots else [],
        http,
        when,
        load_at_start,
    )
    print("\n" + markdown)
    args.output.write_text(markdown)
    print(f"(written to {args.output}; {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
