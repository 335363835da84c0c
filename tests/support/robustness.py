"""Calling the service under test and judging its answer the same way everywhere."""

from __future__ import annotations

import copy
import os
import time
from typing import Any

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario
from tests.support.conformance import assert_conformant_response

UNCHECKED_PREFIX = "Opioid use not fully checked"
# Statuses a client error may get; anything >= 500 is a failure of the service.
CLIENT_ERRORS = {400, 401, 404, 405, 412, 413, 415, 422}


def base_request(name: str = "refractory-fibromyalgia-ldn-select", **kwargs: Any) -> dict[str, Any]:
    """A fixture scenario's hook request (dated as the fixtures are), to mutate."""
    return copy.deepcopy(hook_request(scenario(name), today=FIXTURE_TODAY, **kwargs))


def judge(response: Any) -> list[dict[str, Any]] | None:
    """No 5xx; a 200 must be a conformant CDS Hooks response (its cards are returned);
    a 4xx must be a short error, not a stack trace."""
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:500]}"
    if status == 200:
        return assert_conformant_response(response.json())
    assert status in CLIENT_ERRORS, f"unexpected status {status}: {response.text[:300]}"
    assert "Traceback" not in response.text and len(response.text) < 4096, response.text[:500]
    return None


def post(client: Any, service_id: str, body: Any = None, *, content: bytes | None = None, **kwargs: Any) -> Any:
    url = f"/cds-services/{service_id}"
    if content is not None:
        return client.post(url, content=content, headers={"Content-Type": "application/json"}, **kwargs)
    return client.post(url, json=body, **kwargs)


def timed_post(client: Any, service_id: str, body: Any = None, **kwargs: Any) -> tuple[Any, float]:
    began = time.perf_counter()
    response = post(client, service_id, body, **kwargs)
    return response, time.perf_counter() - began


def summaries(cards: list[dict[str, Any]] | None) -> list[str]:
    return [card["summary"] for card in cards or []]


def entries(request: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The entry list of a prefetch searchset (created if the key holds none)."""
    bundle = request.setdefault("prefetch", {}).get(key)
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        request["prefetch"][key] = bundle
    return bundle.setdefault("entry", [])


# Deadline for FHIR fallback in these tests: short, so failing servers cost little time.
DEADLINE_SECONDS = 0.5


def fuzz_examples(default: int) -> int:
    """Examples per property: ``LDN_FUZZ_EXAMPLES`` when set (``make fuzz``), else ``default``."""
    value = os.environ.get("LDN_FUZZ_EXAMPLES", "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def robust_settings(directory: object, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "development",
        "database_url": f"sqlite:///{directory}/robustness.db",
        "fhir_deadline_seconds": DEADLINE_SECONDS,
        # The fuzzers post tens of thousands of feedback items to one app: they test parsing,
        # not the per-client volume limit (tests/api/security/test_feedback_abuse.py does).
        "feedback_max_items_per_issuer_per_hour": 10**9,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def service_client(settings: Settings) -> TestClient:
    """The service in-process; a 500 comes back as a response, never as a test-side exception."""
    return TestClient(create_app(settings, today=lambda: FIXTURE_TODAY), raise_server_exceptions=False)
