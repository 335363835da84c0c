"""Percentiles and the machine description printed with every result."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def proc_status_kib(pid: int, field: str) -> int | None:
    """A ``/proc/<pid>/status`` memory field (VmRSS, VmHWM) in KiB; None if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def load_average() -> str:
    """The 1-minute load average, to show whether other work shared the machine."""
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "n/a"


def cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of a process so far, in clock ticks (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of the line)
    except (OSError, ValueError, IndexError):
        return None


def wait_idle(pids: Sequence[int], *, quiet_seconds: float = 0.3, timeout: float = 60.0) -> bool:
    """Until none of ``pids`` uses CPU for ``quiet_seconds`` (at most one clock tick each).

    A load generator that stops leaves requests in progress on the server; the next
    measurement must not start while the server is still working them off.
    """
    deadline = time.monotonic() + timeout
    before = [cpu_ticks(pid) for pid in pids]
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        after = [cpu_ticks(pid) for pid in pids]
        if all(a is None or b is None or a - b <= 1 for a, b in zip(after, before, strict=True)):
            return True
        before = after
    return False
