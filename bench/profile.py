"""Where the service spends its time: pyinstrument over in-process requests.

``python -m bench.profile [--size typical|heavy] [--hook order-select|patient-view]``
prints the full call tree; ``bench.run`` prints the hot-spot summary only.

Time spent in C built-ins (regex matching, JSON parsing, pydantic-core) is charged
to the project function that called them, so a line reads "this function, and the
library calls it makes directly".
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from pyinstrument import Profiler

from bench.asgi import AsgiDriver
from bench.workloads import SERVICE_FOR_HOOK, SIZES, Size, hook_request

_APP_MARKERS = ("/app/", "app/")


@dataclass(frozen=True)
class HotSpot:
    where: str  # file:function
    own_seconds: float  # self time plus the built-ins it calls directly
    total_seconds: float  # inclusive, each frame counted once per stack

    def own_percent(self, total: float) -> float:
        return 100 * self.own_seconds / total if total else 0.0

    def total_percent(self, total: float) -> float:
        return 100 * self.total_seconds / total if total else 0.0


def _is_project(frame: Any) -> bool:
    path = frame.file_path or ""
    return "site-packages" not in path and any(m in path for m in _APP_MARKERS) and path.endswith(".py")


def _is_builtin(frame: Any) -> bool:
    path = frame.file_path or ""
    return frame.is_synthetic or not path.endswith(".py")


def _key(frame: Any) -> str:
    path = frame.file_path or ""
    index = path.rfind("/app/")
    short = path[index + 1 :] if index >= 0 else (frame.file_path_short or path)
    return f"{short}:{frame.function}"


def hot_spots(root: Any) -> tuple[list[HotSpot], float]:
    """Project functions by own time (self + direct built-ins), with inclusive time; and the total."""
    own: dict[str, float] = {}
    total: dict[str, float] = {}

    def walk(frame: Any, on_stack: frozenset[str]) -> None:
        key = _key(frame) if _is_project(frame) else None
        if key is not None:
            python_children = sum(c.time for c in frame.children if not _is_builtin(c))
            own[key] = own.get(key, 0.0) + frame.time - python_children
            if key not in on_stack:
                total[key] = total.get(key, 0.0) + frame.time
            on_stack = on_stack | {key}
        for child in frame.children:
            walk(child, on_stack)

    walk(root, frozenset())
    spots = [HotSpot(k, own[k], total[k]) for k in own]
    spots.sort(key=lambda s: s.own_seconds, reverse=True)
    return spots, root.time


async def _profile(app: Any, path: str, bodies: list[bytes], iterations: int, interval: float) -> Profiler:
    async with AsgiDriver(app) as driver:
        for body in bodies:
            await driver.post(path, body)
        profiler = Profiler(interval=interval, async_mode="disabled")
        profiler.start()
        for n in range(iterations):
            status, _ = await driver.post(path, bodies[n % len(bodies)])
            if status != 200:
                raise RuntimeError(f"profiled request answered {status}")
        profiler.stop()
    return profiler


def profile_requests(
    app: Any, size: Size, hook: str, today: date, iterations: int, interval: float = 0.0002, patients: int = 10
) -> Profiler:
    """``iterations`` calls in-process, rotating through ``patients`` distinct bench patients
    (as the HTTP bench does), after one warm-up call each."""
    bodies = [orjson.dumps(hook_request(size, hook, today, variant=n)) for n in range(1, patients + 1)]
    path = f"/cds-services/{SERVICE_FOR_HOOK[hook]}"
    return asyncio.run(_profile(app, path, bodies, iterations, interval))


def summary_lines(profiler: Profiler, limit: int = 10) -> list[str]:
    session = profiler.last_session
    root = session.root_frame() if session else None
    if root is None:
        return ["(no samples)"]
    spots, total = hot_spots(root)
    lines = [f"{'own %':>6} {'incl %':>7}  function (own = self + direct C calls)"]
    for spot in spots[:limit]:
        lines.append(f"{spot.own_percent(total):6.1f} {spot.total_percent(total):7.1f}  {spot.where}")
    return lines


def main() -> None:
    from app.main import create_app
    from app.settings import Environment, Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="typical")
    parser.add_argument("--hook", choices=sorted(SERVICE_FOR_HOOK), default="order-select")
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="ldn-bench-") as tmp:
        app = create_app(
            Settings(env=Environment.development, database_url=f"sqlite:///{tmp}/bench.db"), today=lambda: today
        )
        profiler = profile_requests(app, SIZES[args.size], args.hook, today, args.iterations)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print("\n".join(summary_lines(profiler, limit=15)))


if __name__ == "__main__":
    main()
