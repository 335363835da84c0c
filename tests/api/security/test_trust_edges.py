"""The access token stays under the listed FHIR base *path*, not just its origin (issue 11).

A production app, real signed client JWTs, and a real FHIR server on loopback
(``HostileFhirServer``) that records every request with its Authorization header.
The issuer lists ``http://127.0.0.1:<port>/ok`` as its FHIR base; the same host also
answers ``/other-tenant/…`` and the root, which must never be asked anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.loopback import HostileFhirServer, Seen
from tests.support.robustness import UNCHECKED_PREFIX, base_request, entries, summaries
from tests.support.security import SigningKey, bearer, mint

SERVICE = "/cds-services/ldn-order-select"
TOKEN = "ehr-access-token-edges-5d1c"


@pytest.fixture(scope="module")
def fhir() -> Iterator[HostileFhirServer]:
    with HostileFhirServer() as server:
        yield server


@pytest.fixture
def listed(make_client: Callable[..., TestClient], issuer_entry: dict, fhir: HostileFhirServer) -> TestClient:
    """The production app; the issuer lists the ``ok``, ``redirect-up`` and ``next-up`` bases."""
    bases = [fhir.url(mode) for mode in ("ok", "redirect-up", "next-up")]
    return make_client(issuers=[{**issuer_entry, "fhir_servers": bases}])


def call(client: TestClient, key: SigningKey, body: dict) -> tuple[int, list[str], str]:
    response = client.post(SERVICE, json=body, headers=bearer(mint(key, SERVICE)))
    cards = response.json().get("cards") if response.status_code == 200 else None
    return response.status_code, summaries(cards), response.text


def requests_since(fhir: HostileFhirServer, count: int) -> list[Seen]:
    with fhir._lock:
        return list(fhir.seen[count:])


def outside(seen: list[Seen], base_path: str) -> list[str]:
    return [s.target for s in seen if not (s.target == base_path or s.target.startswith(base_path + "/"))]


# ------------------------------------------------------------------ fhirServer itself


@pytest.mark.parametrize(
    ("suffix", "problem"),
    [
        ("#@x", "fragment"),
        ("?", "query"),
        ("?x=1", "query"),
        (" ", "whitespace"),
        ("\t", "whitespace"),
        ("/%2e%2e", "dot segments"),
    ],
    ids=["fragment-userinfo", "empty-query", "query", "trailing-space", "tab", "encoded-dots"],
)
def test_a_fhir_server_with_more_than_scheme_host_and_path_is_a_400_and_nothing_is_read(
    listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer, suffix: str, problem: str
) -> None:
    """``…/ok#@x`` and ``…/ok?`` passed the allow-list (it compared a normalised prefix)
    and then resolved to the host's root, which got the token."""
    before = len(fhir.seen)
    body = base_request(with_prefetch=False, fhir_server=fhir.url("ok") + suffix, access_token=TOKEN)
    status, _, text = call(listed, es_key, body)
    assert status == 400, text
    assert "fhirServer" in text and problem in text
    assert requests_since(fhir, before) == []


def test_a_fhir_server_with_user_info_is_a_400(listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer) -> None:
    before = len(fhir.seen)
    url = fhir.url("ok").replace("http://", "http://ehr@")
    status, _, text = call(listed, es_key, base_request(with_prefetch=False, fhir_server=url, access_token=TOKEN))
    assert status == 400 and "user info" in text
    assert requests_since(fhir, before) == []


def test_the_control_the_listed_base_is_read_with_the_token(
    listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer
) -> None:
    before = len(fhir.seen)
    status, cards, text = call(
        listed, es_key, base_request(with_prefetch=False, fhir_server=fhir.url("ok"), access_token=TOKEN)
    )
    assert status == 200, text
    seen = requests_since(fhir, before)
    assert seen and {s.authorization for s in seen} == {f"Bearer {TOKEN}"}
    assert outside(seen, "/ok") == []
    assert not [s for s in cards if s.startswith(UNCHECKED_PREFIX)], cards


# ------------------------------------------------------------------ references


HOSTILE_REFERENCES = {
    "dot segments": "a/../../escape",
    "dot segments after the type": "Medication/../../escape",
    "encoded dots": "Medication/%2e%2e/%2e%2e/escape",
    "a query in the id": "Medication/x?_format=xml",
    "an id longer than 64": "Medication/" + "x" * 65,
    "another type": "Patient/p1",
    "another server": "http://127.0.0.1:1/fhir/Medication/1",
}


@pytest.mark.parametrize("reference", HOSTILE_REFERENCES.values(), ids=HOSTILE_REFERENCES.keys())
def test_a_medication_reference_that_is_not_type_slash_id_under_the_base_is_never_requested(
    listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer, reference: str
) -> None:
    body = base_request(fhir_server=fhir.url("ok"), access_token=TOKEN)
    entries(body, "medicationRequests").append(
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "by-reference",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{body['context']['patientId']}"},
                "medicationReference": {"reference": reference},
            }
        }
    )
    before = len(fhir.seen)
    status, cards, text = call(listed, es_key, body)
    assert status == 200, text
    assert requests_since(fhir, before) == []  # nothing to read: the only reference is not readable
    # The prescription's drug is unknown: the naltrexone order is not called opioid-free.
    assert [s for s in cards if s.startswith(UNCHECKED_PREFIX)], cards


def test_a_full_url_reference_under_the_same_base_is_read_by_its_id(
    listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer
) -> None:
    body = base_request(fhir_server=fhir.url("ok"), access_token=TOKEN)
    entries(body, "medicationRequests").append(
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "by-url",
                "status": "active",
                "intent": "order",
                "medicationReference": {"reference": fhir.url("ok") + "/Medication/med-7"},
            }
        }
    )
    before = len(fhir.seen)
    status, _, text = call(listed, es_key, body)
    assert status == 200, text
    seen = requests_since(fhir, before)
    assert [s.target for s in seen] == ["/ok/Medication?_id=med-7&_count=1"]


# ------------------------------------------------------------------ redirects and next links


@pytest.mark.parametrize("mode", ["redirect-up", "next-up"])
def test_a_same_host_redirect_or_next_link_outside_the_base_path_is_not_followed(
    listed: TestClient, es_key: SigningKey, fhir: HostileFhirServer, mode: str
) -> None:
    """Same scheme, host and port, another path: ``/other-tenant/…`` must see nothing."""
    before = len(fhir.seen)
    status, cards, text = call(
        listed, es_key, base_request(with_prefetch=False, fhir_server=fhir.url(mode), access_token=TOKEN)
    )
    assert status == 200, text
    seen = requests_since(fhir, before)
    assert seen, "the listed base itself was read"
    assert outside(seen, f"/{mode}") == []
    assert [s for s in cards if s.startswith(UNCHECKED_PREFIX)], cards  # what was not followed is not called complete


# ------------------------------------------------------------------ no redirect built from Host


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/cds-services/"), ("POST", SERVICE + "/"), ("POST", SERVICE + "/feedback/"), ("GET", "/healthz/")],
)
def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_callers_host(
    secure_client: TestClient, method: str, path: str
) -> None:
    response = secure_client.request(method, path, headers={"Host": "attacker.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "attacker.example" not in response.text
