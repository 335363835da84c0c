"""Does one hostile or heavy request slow everyone else down? ``python -m bench.availability``

Starts the real service (``ldn-cds serve``, one worker, development mode, the server
limits of ``app/settings.py``) and a loopback FHIR server (``bench.fhir_backend``,
100 ms per query) holding 3,000 Medications. ``/healthz`` is sampled every 50 ms on its
own connection, in three phases of ``--seconds`` each:

1. idle;
2. while order-select calls run back to back whose prefetch holds 3,000
   MedicationRequests, each referencing a different Medication on the FHIR server;
3. while a client sends a 128 MiB request header, over and over.

A sample's latency runs from when it was *due* (every 50 ms on a fixed schedule) to its
answer, so a stalled event loop counts for every tick it swallowed, not once. Prints
p50/p99/max per phase and whether each loaded p99 is within 100 ms of the idle p99.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from bench import references
from bench.servers import ServerProcess, free_port, start_module
from bench.stats import load_average, machine, percentile

SAMPLE_EVERY = 0.050
BUDGET_MS = 100.0
REFERENCES = 3000
HEADER_BYTES = 128 * 1024 * 1024
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0
    notes: list[str] = field(default_factory=list)

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


def sample_healthz(base_url: str, seconds: float, phase: Phase) -> None:
    """GET /healthz every 50 ms on a fixed schedule; latency counted from the scheduled time."""
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        client.get("/healthz")  # open the connection outside the measurement
        start = time.perf_counter()
        tick = 0
        while (due := start + tick * SAMPLE_EVERY) < start + seconds:
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            try:
                ok = client.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                phase.latencies_ms.append((time.perf_counter() - due) * 1000)
            else:
                phase.failures += 1
            # Ticks that passed while this sample waited are counted as one sample each,
            # with the latency they would have seen (coordinated omission).
            tick += 1
            while start + tick * SAMPLE_EVERY < time.perf_counter() and start + tick * SAMPLE_EVERY < start + seconds:
                phase.latencies_ms.append((time.perf_counter() - (start + tick * SAMPLE_EVERY)) * 1000)
                tick += 1


def reference_calls(base_url: str, body: bytes, stop: threading.Event, phase: Phase) -> None:
    """The 3,000-reference order-select, one after another until ``stop``."""
    durations: list[float] = []
    statuses: dict[int, int] = {}
    unchecked = 0
    with httpx.Client(base_url=base_url, timeout=60.0) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = client.post(
                "/cds-services/ldn-order-select", content=body, headers={"Content-Type": "application/json"}
            )
            durations.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                summaries = [c["summary"] for c in response.json()["cards"]]
                unchecked += any(s.startswith("Opioid use not fully checked") for s in summaries)
    phase.notes.append(
        f"{len(durations)} calls of {REFERENCES:,} references ({len(body) / 1024:.0f} KiB): statuses {statuses}, "
        f"call time p50 {percentile(durations, 50):.2f} s, max {max(durations, default=0):.2f} s; "
        f"'Opioid use not fully checked' in {unchecked} of them"
    )


def huge_headers(port: int, stop: threading.Event, phase: Phase) -> None:
    """Send a 128 MiB header again and again; note how much the server took before refusing it."""
    chunk = b"a" * (1024 * 1024)
    accepted: list[int] = []
    answers: dict[str, int] = {}
    while not stop.is_set():
        sent = 0
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nX-Huge: ")
                while sent < HEADER_BYTES and not stop.is_set():
                    sock.sendall(chunk)
                    sent += len(chunk)
                sock.sendall(b"\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                status = sock.recv(64).split(b"\r\n", 1)[0].decode(errors="replace") or "(closed)"
            except (TimeoutError, ConnectionResetError):
                status = "(reset)"
        accepted.append(sent)
        answers[status] = answers.get(status, 0) + 1
    phase.notes.append(
        f"{len(accepted)} attempts to send {HEADER_BYTES // 2**20} MiB of header: answers {answers}; "
        f"the most any attempt got into the socket before the server refused it: {max(accepted, default=0) / 2**20:.1f} MiB"
    )


def run_phase(
    name: str, base_url: str, seconds: float, load: Callable[[threading.Event, Phase], None] | None = None
) -> Phase:
    """Sample /healthz for ``seconds`` while ``load(stop, phase)`` runs in a thread."""
    phase, stop = Phase(name), threading.Event()
    thread = threading.Thread(target=load, args=(stop, phase), daemon=True) if load is not None else None
    if thread is not None:
        thread.start()
        time.sleep(0.5)  # let the load get going before sampling
    sample_healthz(base_url, seconds, phase)
    stop.set()
    if thread is not None:
        thread.join(timeout=120)
    return phase


def start_service(tmp: Path) -> ServerProcess:
    port = free_port()
    log_path = tmp / "service.log"
    env = {
        **os.environ,
        "CDS_ENV": "development",
        "CDS_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "CDS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return ServerProcess(name="service", process=process, port=port, log_path=log_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    args = parser.parse_args(argv)
    today = date.today()
    tmp = Path(tempfile.mkdtemp(prefix="ldn-availability-"))
    fhir_port = free_port()
    fhir = start_module(
        "fhir",
        "bench.fhir_backend",
        ["--port", str(fhir_port), "--delay-ms", "100", "--medications", str(REFERENCES)],
        fhir_port,
        tmp,
    )
    service = start_service(tmp)
    try:
        fhir.wait_ready(b"GET /metadata HTTP/1.1\r\nHost: x\r\n\r\n", timeout=120)
        service.wait_ready(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=60)
        body = json.dumps(references.hook_request(REFERENCES, f"http://127.0.0.1:{fhir_port}", today)).encode()
        phases = [
            run_phase("idle", service.base_url, args.seconds),
            run_phase(
                f"{REFERENCES:,}-reference calls",
                service.base_url,
                args.seconds,
                lambda stop, phase: reference_calls(service.base_url, body, stop, phase),
            ),
            run_phase(
                f"{HEADER_BYTES // 2**20} MiB headers",
                service.base_url,
                args.seconds,
                lambda stop, phase: huge_headers(service.port, stop, phase),
            ),
        ]
        peak = service.peak_rss_mib()
    finally:
        service.stop()
        fhir.stop()
    return report(phases, peak)


def report(phases: list[Phase], peak_rss_mib: float | None) -> int:
    print(f"\n/healthz every {SAMPLE_EVERY * 1000:.0f} ms, one worker ({machine()}; load average {load_average()})\n")
    print("| phase | samples | failed | p50 (ms) | p99 (ms) | max (ms) | p99 - idle p99 (ms) | within 100 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    idle = phases[0].p(99)
    ok = True
    for phase in phases:
        delta = phase.p(99) - idle
        within = phase is phases[0] or (delta <= BUDGET_MS and not phase.failures)
        ok &= within
        print(
            f"| {phase.name} | {len(phase.latencies_ms)} | {phase.failures} | {phase.p(50):.1f} | {phase.p(99):.1f} | "
            f"{max(phase.latencies_ms, default=float('nan')):.1f} | {delta:+.1f} | {'-' if phase is phases[0] else ('yes' if within else 'NO')} |"
        )
    print()
    for phase in phases:
        for note in phase.notes:
            print(f"- {phase.name}: {note}")
    if peak_rss_mib is not None:
        print(f"- service worker peak RSS over the run: {peak_rss_mib:.0f} MiB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
