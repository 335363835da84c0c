"""Latency of one order-select with full prefetch for a fixture patient, in-process.

``python -m bench.fixture_latency [scenario]`` (default: the README's curl example,
``oxycodone-active-ldn-select``): the whole call (JSON parse, checks, record assembly,
rules, cards, serialisation) through the ASGI app, one request at a time.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.main import create_app
from app.settings import Settings
from bench.asgi import AsgiDriver
from devtools.fixtures import ROOT, scenario

WARMUP = 20
CALLS = 500


async def measure(name: str) -> None:
    case = scenario(name)
    service = {"order-select": "ldn-order-select", "order-sign": "ldn-order-sign", "patient-view": "ldn-patient-view"}[
        case.hook
    ]
    body = (ROOT / "requests" / f"{name}.json").read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        async with AsgiDriver(app) as driver:
            for _ in range(WARMUP):
                await driver.post(f"/cds-services/{service}", body)
            timings = []
            for _ in range(CALLS):
                began = time.perf_counter()
                status, _ = await driver.post(f"/cds-services/{service}", body)
                timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    print(
        f"{name} ({case.hook}, {len(body)} bytes with full prefetch, HTTP {status}): "
        f"p50 {statistics.median(timings):.2f} ms, p99 {timings[int(CALLS * 0.99)]:.2f} ms over {CALLS} calls"
    )


if __name__ == "__main__":
    asyncio.run(measure(sys.argv[1] if len(sys.argv) > 1 else "oxycodone-active-ldn-select"))
