"""/docs, /redoc and /openapi.json: off in production unless CDS_API_DOCS turns them on; when on,
served without a CDN; and the OpenAPI document says what the service really sends."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.main import create_app
from app.services.catalog import SERVICES
from devtools import openapi_examples
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario
from tests.support.conformance import assert_conformant_response, error_message
from tests.support.security import production_settings, write_issuers

HOOK_CALL = "/cds-services/{service_id}"
FEEDBACK = "/cds-services/{service_id}/feedback"


@pytest.fixture
def production(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A production app (issuers file, public URL) with the given setting overrides."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        issuers = write_issuers(
            tmp_path, [{"iss": "https://ehr.test", "jwks_url": "https://ehr.test/jwks", "fhir_servers": []}]
        )
        client = TestClient(create_app(production_settings(tmp_path, issuers, **overrides)))
        clients.append(client.__enter__())
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def document(api: TestClient) -> dict[str, Any]:
    return api.get("/openapi.json").json()


def test_production_serves_no_api_docs_by_default(production: Callable[..., TestClient]) -> None:
    client = production()
    for path in ("/docs", "/redoc", "/openapi.json", "/static-offline-docs/swagger-ui-bundle.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        error_message(response.json())


def _local_assets(page: str) -> list[str]:
    """Every script, stylesheet and icon a docs page loads; all must be paths on this service."""
    urls = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]""", page)
    urls += re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", page)
    assets = [u for u in urls if not u.startswith("#")]
    outside = [u for u in assets if "://" in u or u.startswith("//")]
    assert outside == [], f"the page loads from elsewhere: {outside}"
    return assets


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_turned_on_in_production_load_nothing_from_a_cdn(production: Callable[..., TestClient], page: str) -> None:
    client = production(api_docs=True)
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assets = _local_assets(response.text)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > (1000 if asset.endswith((".js", ".css")) else 0), asset
    assert client.get("/openapi.json").json()["paths"]


def test_the_service_id_is_an_enum_of_the_three_services(document: dict[str, Any]) -> None:
    for path in (HOOK_CALL, FEEDBACK):
        (parameter,) = document["paths"][path]["post"]["parameters"]
        assert parameter["in"] == "path" and parameter["schema"]["enum"] == list(SERVICES)
    assert set(SERVICES) == {"ldn-order-select", "ldn-order-sign", "ldn-patient-view"}


def test_no_response_is_documented_that_is_never_sent(document: dict[str, Any]) -> None:
    statuses = {
        (path, status)
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for status in operation["responses"]
    }
    assert not [entry for entry in statuses if entry[1] == "422"], "every validation failure is answered as 400"
    assert "HTTPValidationError" not in document.get("components", {}).get("schemas", {})
    hook_call = document["paths"][HOOK_CALL]["post"]["responses"]
    assert set(hook_call) == {"200", "400", "401", "404", "408", "412", "413", "503"}  # 408: test_server_limits
    assert "content" not in hook_call["401"], "the 401 is bare"


def test_the_examples_are_the_fixtures(document: dict[str, Any]) -> None:
    operation = document["paths"][HOOK_CALL]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    assert example == openapi_examples.example_request()
    assert example["context"]["patientId"] == hook_request(scenario(openapi_examples.SCENARIO))["context"]["patientId"]
    cards = operation["responses"]["200"]["content"]["application/json"]["example"]
    assert_conformant_response(cards)


def _without_uuids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_uuids(v) for k, v in value.items() if k not in {"uuid", "card"}}
    if isinstance(value, list):
        return [_without_uuids(v) for v in value]
    return value


def test_the_service_answers_the_example_request_with_the_example_cards(
    api: TestClient, document: dict[str, Any]
) -> None:
    operation = document["paths"][HOOK_CALL]["post"]
    request = operation["requestBody"]["content"]["application/json"]["example"]
    documented = operation["responses"]["200"]["content"]["application/json"]["example"]
    answered = api.post(f"/cds-services/{openapi_examples.SERVICE}", json=request)
    assert answered.status_code == 200
    assert _without_uuids(answered.json()) == _without_uuids(documented), "run `python -m devtools.openapi_examples`"
    feedback = document["paths"][FEEDBACK]["post"]["requestBody"]["content"]["application/json"]["example"]
    feedback["feedback"][0]["card"] = answered.json()["cards"][0]["uuid"]
    assert api.post(f"/cds-services/{openapi_examples.SERVICE}/feedback", json=feedback).json() == {"received": 1}


def _schema_validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    """A validator for ``schema`` (a ``$ref`` into the document), with the document's other refs resolvable."""
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator({"$ref": "urn:openapi" + schema["$ref"]}, registry=registry)


def test_every_error_answer_matches_its_documented_body(
    document: dict[str, Any], make_client: Callable[..., TestClient]
) -> None:
    client = make_client(max_request_bytes=4_000)  # the full example request is larger
    no_prefetch = hook_request(scenario("oxycodone-active-ldn-select"), with_prefetch=False, today=FIXTURE_TODAY)
    answers = {
        "400": client.post(
            "/cds-services/ldn-order-select", content=b"{oops", headers={"Content-Type": "application/json"}
        ),
        "404": client.post("/cds-services/no-such-service", json=no_prefetch),
        "412": client.post("/cds-services/ldn-order-select", json=no_prefetch),
        "413": client.post(
            "/cds-services/ldn-order-select", json=hook_request(scenario("oxycodone-active-ldn-select"))
        ),
    }
    responses = document["paths"][HOOK_CALL]["post"]["responses"]
    for status, response in answers.items():
        assert str(response.status_code) == status, response.text
        schema = responses[status]["content"]["application/json"]["schema"]
        _schema_validator(document, schema).validate(response.json())
        assert error_message(response.json())
    bare = client.get("/cds-services", headers={"Authorization": "Bearer not-a-jwt"})
    assert bare.status_code == 401 and bare.content == b""


def test_the_examples_file_is_what_the_fixtures_build() -> None:
    built = openapi_examples.build()
    committed = openapi_examples.examples_on_disk()
    assert committed["hookRequest"] == built["hookRequest"], "run `python -m devtools.openapi_examples`"
    assert _without_uuids(committed) == _without_uuids(built), "run `python -m devtools.openapi_examples`"
