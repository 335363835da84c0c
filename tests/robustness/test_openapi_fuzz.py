"""Fuzzing from the published OpenAPI document (schemathesis), against the app in-process.

Schemathesis generates requests that fit the schema and requests that break it.
Every response must be below 500; a 200 from a service must be a conformant CDS
Hooks response. Each generated object body is also sent to every real service with
that service's hook, so the fuzzing reaches record assembly, not only the 404 path.
"""

from __future__ import annotations

import copy
import json
import tempfile
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.core import NotSet

from app.main import create_app
from devtools.fixtures import FIXTURE_TODAY
from tests.support.robustness import fuzz_examples, judge, robust_settings
from tests.support.strategies import HOOK_FOR_SERVICE


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for item in value.values() for r in _refs(item)]
    if isinstance(value, list):
        return [r for item in value for r in _refs(item)]
    return []


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _defs(value: Any) -> dict[str, Any]:
    """Every ``$defs`` entry anywhere in the document, by name."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        found.update(value.get("$defs", {}) if isinstance(value.get("$defs"), dict) else {})
        for item in value.values():
            found.update(_defs(item))
    elif isinstance(value, list):
        for item in value:
            found.update(_defs(item))
    return found


def with_dangling_refs_repaired(document: dict[str, Any]) -> dict[str, Any]:
    """The document with dangling ``#/components/schemas/X`` refs pointed at their ``$defs``.

    A no-op once the published document is right (see the test below); until then the
    fuzzer would otherwise generate no request bodies at all.
    """
    repaired = copy.deepcopy(document)
    schemas = repaired.setdefault("components", {}).setdefault("schemas", {})
    defs = _defs(repaired)
    for ref in _refs(repaired):
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/components/schemas/") and name not in schemas and name in defs:
            schemas[name] = defs[name]
    return repaired


# Built at import: schemathesis parametrizes from a schema object at collection time
# (its lazy fixture loader does not work with pytest 9).
_DATABASE_DIR = tempfile.TemporaryDirectory(prefix="ldn-openapi-fuzz-")
APP = create_app(robust_settings(_DATABASE_DIR.name), today=lambda: FIXTURE_TODAY)
schema = schemathesis.openapi.from_dict(with_dangling_refs_repaired(APP.openapi()))


@pytest.fixture(scope="module")
def fuzz_client():
    with TestClient(APP, raise_server_exceptions=False) as client:  # lifespan runs once, for every case
        yield client


def test_every_ref_in_the_published_openapi_document_resolves(fuzz_client):
    """Clients generate code and requests from /openapi.json: a dangling $ref breaks them
    (schemathesis, for one, generates no request body for the hook call)."""
    document = fuzz_client.get("/openapi.json").json()
    dangling = sorted({ref for ref in _refs(document) if not _resolves(document, ref)})
    assert not dangling, dangling


def test_the_hook_call_documents_a_request_body(fuzz_client):
    operation = fuzz_client.get("/openapi.json").json()["paths"]["/cds-services/{service_id}"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"hook", "hookInstance", "context"} <= set(schema.get("required", []))


def _send(client: TestClient, method: str, path: str, case: Any, body: Any) -> Any:
    headers = {k: v for k, v in (case.headers or {}).items() if isinstance(v, str)}
    kwargs: dict[str, Any] = {"headers": headers, "params": case.query or None}
    if not isinstance(body, NotSet):
        headers.setdefault("Content-Type", case.media_type or "application/json")
        kwargs["content"] = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return client.request(method, path, **kwargs)


def _judge_any(path_template: str, response: Any) -> None:
    if path_template == "/cds-services/{service_id}":
        judge(response)
    else:
        assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=fuzz_examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_request_the_schema_allows_or_forbids_gets_a_5xx(case, fuzz_client):
    response = _send(fuzz_client, case.method, case.formatted_path, case, case.body)
    _judge_any(case.path, response)
    if case.path == "/cds-services/{service_id}" and isinstance(case.body, dict):
        for service_id, hook in HOOK_FOR_SERVICE.items():
            body = {**case.body, "hook": hook}
            _judge_any(case.path, _send(fuzz_client, "POST", f"/cds-services/{service_id}", case, body))
