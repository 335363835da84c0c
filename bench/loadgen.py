"""A small closed-loop HTTP/1.1 load generator (asyncio, keep-alive, loopback only).

``concurrency`` connections each send a pre-built request (the next of ``request`` when
it is a list: the connections take them in turn), wait for the whole response, and send again, for ``seconds`` (after ``warmup`` seconds not counted) and
at most ``max_requests`` requests. Latency is measured per request on the client.
It costs tens of microseconds per request, but on a 2-core machine it still takes much
of the core the server would otherwise have: it is the fallback when wrk is missing
(``bench.wrk``), and its numbers are labelled as such.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.stats import percentile


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000  # ms


def build_request(path: str, body: bytes, host: str = "127.0.0.1") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def run_load(
    port: int,
    request: bytes | Sequence[bytes],
    *,
    concurrency: int = 16,
    seconds: float = 6.0,
    warmup: float = 1.0,
    max_requests: int = 200_000,
    request_timeout: float = 30.0,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    result = LoadResult(concurrency=concurrency, seconds=seconds)
    requests = [request] if isinstance(request, bytes) else list(request)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        try:
            while loop.time() < stop_at and sent < max_requests:
                payload = requests[sent % len(requests)]
                sent += 1
                began = time.perf_counter()
                writer.write(payload)
                await writer.drain()
                try:
                    status = await asyncio.wait_for(_read_response(reader), request_timeout)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    result.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
                    continue
                elapsed = time.perf_counter() - began
                if loop.time() >= measure_from and loop.time() <= stop_at:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status == 200:
                        result.latencies.append(elapsed)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result
