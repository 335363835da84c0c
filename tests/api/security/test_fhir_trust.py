"""The fhirServer allow-list: the access token goes only to a server the authenticated issuer
registered, checked against real FHIR servers on loopback that record what they were sent."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.cds.models import FhirAuthorization, HookRequest
from app.security.auth import Principal
from app.security.fhir_trust import fhir_access
from app.security.issuers import TrustedIssuer
from app.settings import Settings
from devtools.fhir_server import FhirServerConfig, create_fhir_app
from devtools.fixtures import hook_request, scenario
from tests.support.security import ISSUER, SigningKey, bearer, mint
from tests.support.servers import asgi_server

TOKEN = "ehr-access-token-0f5e"
SERVICE = "/cds-services/ldn-order-select"


def principal(*servers: str) -> Principal:
    issuer = TrustedIssuer(iss=ISSUER, fhir_servers=frozenset(servers), jku_urls=frozenset())
    return Principal(issuer=issuer, tenant=None)


def call_for(server: str, *, patient: str | None = "p1") -> tuple[str | None, FhirAuthorization | None]:
    """(fhirServer, fhirAuthorization) of a hook call, as the pipeline passes them on."""
    request = request_for(server, patient=patient)
    return request.fhirServer, request.fhirAuthorization


def request_for(server: str, *, patient: str | None = "p1") -> HookRequest:
    authorization = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 30, "scope": "x", "subject": "s"}
    if patient is not None:
        authorization["patient"] = patient
    return HookRequest.model_validate(
        {
            "hook": "patient-view",
            "hookInstance": "h",
            "context": {},
            "fhirServer": server,
            "fhirAuthorization": authorization,
        }
    )


PRODUCTION = Settings(env="production")
DEVELOPMENT = Settings(env="development")


@pytest.mark.parametrize(
    ("server", "settings", "who", "allowed"),
    [
        ("https://ehr.example/fhir", PRODUCTION, principal("https://ehr.example/fhir"), True),
        ("https://EHR.example:443/fhir/", PRODUCTION, principal("https://ehr.example/fhir"), True),
        ("https://ehr.example/fhir2", PRODUCTION, principal("https://ehr.example/fhir"), False),
        ("https://evil.example/fhir", PRODUCTION, principal("https://ehr.example/fhir"), False),
        ("http://127.0.0.1:9/fhir", PRODUCTION, principal("http://127.0.0.1:9/fhir"), True),  # listed as written
        ("http://127.0.0.1:9/fhir", PRODUCTION, principal(), False),
        ("https://ehr.example/fhir", PRODUCTION, None, False),
        ("https://anywhere.example/fhir", DEVELOPMENT, None, False),  # nobody listed it
        ("https://anywhere.example/fhir", DEVELOPMENT, principal("https://anywhere.example/fhir"), True),
        ("http://localhost:8081/fhir", DEVELOPMENT, None, True),
        ("https://localhost:8443/fhir", DEVELOPMENT, None, True),
        ("http://127.0.0.5/fhir", DEVELOPMENT, None, True),
        ("http://[::1]:8081/fhir", DEVELOPMENT, None, True),
        ("http://ehr.example/fhir", DEVELOPMENT, None, False),
        ("http://169.254.169.254/latest", DEVELOPMENT, None, False),
    ],
)
def test_which_fhir_servers_may_be_read(server: str, settings: Settings, who: Principal | None, allowed: bool) -> None:
    access = fhir_access(*call_for(server), "p1", settings, who)
    assert (access is not None) is allowed
    if access is not None:
        assert access.access_token == TOKEN and access.base_url == server


def test_a_token_for_another_patient_is_not_used() -> None:
    access = fhir_access(*call_for("http://127.0.0.1:8081/fhir", patient="Patient/p2"), "p1", DEVELOPMENT, None)
    assert access is not None and access.access_token is None
    same = fhir_access(*call_for("http://127.0.0.1:8081/fhir", patient="Patient/p1"), "p1", DEVELOPMENT, None)
    assert same is not None and same.access_token == TOKEN


@pytest.fixture
def fhir_servers() -> Iterator[tuple[tuple[str, FhirServerConfig], tuple[str, FhirServerConfig]]]:
    """Two real FHIR servers on loopback: one the issuer registered, one it did not."""
    listed_config, unlisted_config = FhirServerConfig(), FhirServerConfig()
    with (
        asgi_server(create_fhir_app(listed_config)) as listed,
        asgi_server(create_fhir_app(unlisted_config)) as unlisted,
    ):
        yield (listed, listed_config), (unlisted, unlisted_config)


def fetching_request(fhir_server: str) -> dict:
    return hook_request(
        scenario("oxycodone-active-ldn-select"), with_prefetch=False, fhir_server=fhir_server, access_token=TOKEN
    )


def test_the_token_goes_to_the_listed_server_and_never_to_an_unlisted_one(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey, fhir_servers
) -> None:
    (listed, listed_config), (unlisted, unlisted_config) = fhir_servers
    client = make_client(issuers=[{**issuer_entry, "fhir_servers": [listed]}])

    response = client.post(SERVICE, json=fetching_request(listed), headers=bearer(mint(es_key, SERVICE)))
    assert response.status_code == 200
    assert "critical" in [card["indicator"] for card in response.json()["cards"]]  # found the opioid via FHIR
    assert listed_config.seen_authorization and set(listed_config.seen_authorization) == {f"Bearer {TOKEN}"}

    response = client.post(SERVICE, json=fetching_request(unlisted), headers=bearer(mint(es_key, SERVICE)))
    assert response.status_code == 412  # nothing prefetched and the only server is not trusted
    assert unlisted_config.seen_paths == []  # not contacted at all, so never given the token


def test_a_server_listed_for_another_issuer_is_not_read(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey, fhir_servers
) -> None:
    (listed, listed_config), _ = fhir_servers
    other = {"iss": "https://other.example", "jwks": issuer_entry["jwks"], "fhir_servers": [listed]}
    client = make_client(issuers=[issuer_entry, other])
    response = client.post(SERVICE, json=fetching_request(listed), headers=bearer(mint(es_key, SERVICE)))
    assert response.status_code == 412
    assert listed_config.seen_paths == []


def test_development_reads_a_loopback_server_but_no_unlisted_remote_one(
    client: TestClient, fhir_servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    (local, local_config), _ = fhir_servers
    assert client.post(SERVICE, json=fetching_request(local)).status_code == 200
    assert set(local_config.seen_authorization) == {f"Bearer {TOKEN}"}
    dialled: list[object] = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(
        socket.socket, "connect", lambda sock, address: dialled.append(address) or real_connect(sock, address)
    )
    for remote in ("http://ehr.invalid/fhir", "https://ehr.invalid/fhir"):  # https too: nobody listed it
        assert client.post(SERVICE, json=fetching_request(remote)).status_code == 412
    assert dialled == [], "an unlisted server must not even be contacted"
