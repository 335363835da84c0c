"""What card identity costs a hook call: the issued-card rows, the snooze lookup, the HMAC.

In-process (no network), a real SQLite file in a temporary folder, one call at a time:

- ``patient_key``: the HMAC that stands in for the patient;
- ``CardIdentity.issue`` alone, for an answer of one and of three cards;
- the whole order-select call (``ldn-order-select``, the oxycodone fixture: one critical
  card) with card identity, and the same call with ``issue`` replaced by a pass-through;
- a chart open with no card (the common case), which touches no table.

Prints p50 / p99 in milliseconds. Run: ``python -m bench.identity``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from app.cds.models import Card
from app.feedback.identity import CardIdentity
from app.main import create_app
from app.security.deployment_secret import patient_key
from app.settings import Environment, Settings
from bench.asgi import AsgiDriver
from bench.stats import load_average, machine, percentile
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario

CALLS = 1000


def _timed(action: Callable[[], object], n: int = CALLS) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _timed_calls(driver: AsgiDriver, path: str, body: bytes, n: int = CALLS) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        status, _ = await driver.post(path, body)
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 200
    return samples


def _row(name: str, samples: list[float]) -> str:
    return f"| {name} | {percentile(samples, 50):.3f} | {percentile(samples, 99):.3f} |"


async def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(env=Environment.development, database_url=f"sqlite:///{Path(folder)}/bench.db")
        app = create_app(settings, today=lambda: FIXTURE_TODAY)
        async with AsgiDriver(app) as driver:
            secret = app.state.pipeline.secret
            rows.append(
                _row(
                    "patient_key (HMAC-SHA256)", _timed(lambda: patient_key(secret, "https://ehr", None, "patient-123"))
                )
            )

            select = json.dumps(hook_request(scenario("oxycodone-active-ldn-select"))).encode()
            _status, answer = await driver.post("/cds-services/ldn-order-select", select)
            card = Card.model_validate(json.loads(answer)["cards"][0])
            identity: CardIdentity = app.state.identity
            for count in (1, 3):
                cards = [card.model_copy(update={"uuid": f"{i}"}) for i in range(count)]
                counter = iter(range(10**9))

                def issue(cards: list[Card] = cards, counter: Iterator[int] = counter) -> None:
                    fresh = [c.model_copy(update={"uuid": f"{c.uuid}-{next(counter)}"}) for c in cards]
                    identity.issue(fresh, service_id="ldn-order-select", issuer=None, patient_key="k" * 64)

                rows.append(_row(f"CardIdentity.issue, {count} card(s)", _timed(issue)))

            # Alternated call by call, so drift on a busy machine hits both the same. The method is
            # swapped on this one instance, which mypy refuses (method-assign) for ordinary code.
            original = identity.issue
            bypass = lambda cards, **_: list(cards)  # noqa: E731 - the same call without card identity
            with_identity: list[float] = []
            without: list[float] = []
            for _ in range(CALLS):
                for samples, issue_cards in ((with_identity, original), (without, bypass)):
                    identity.issue = issue_cards  # type: ignore[method-assign]
                    samples += await _timed_calls(driver, "/cds-services/ldn-order-select", select, n=1)
            identity.issue = original  # type: ignore[method-assign]
            rows.append(_row("order-select call, 1 card, with card identity", with_identity))
            rows.append(_row("order-select call, 1 card, identity bypassed", without))

            quiet = json.dumps(hook_request(scenario("not-refractory-patient-view"))).encode()
            rows.append(
                _row(
                    "patient-view call, no card (no database)",
                    await _timed_calls(driver, "/cds-services/ldn-patient-view", quiet),
                )
            )

    print(f"### Card identity cost ({machine()}; load {load_average()}; {CALLS} calls each, in-process, SQLite)\n")
    print("| what | p50 (ms) | p99 (ms) |\n|---|---:|---:|")
    print("\n".join(rows))
    delta = percentile(with_identity, 50) - percentile(without, 50)
    print(f"\nCard identity adds {delta:.3f} ms at p50 to a call that answers with a card.")


if __name__ == "__main__":
    asyncio.run(main())
