"""FhirClient against a misbehaving FHIR server (respx): every fault is a FhirFetchError,
the token goes only to the request's fhirServer, paging is bounded.

The happy path against a real FHIR server is covered in tests/api and tests/integration.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import respx

from app.fhir.client import FhirClient, FhirFetchError, ReadBudget
from app.security.fhir_trust import FhirAccess
from tests.support.fhir import OXYCODONE_5MG, medication_request, operation_outcome, searchset
from tests.support.servers import closed_port_url, silent_tcp_server

BASE = "http://ehr.test/fhir"
TOKEN = "token-for-ehr"
ACCESS = FhirAccess(base_url=BASE, access_token=TOKEN)
QUERY = "MedicationRequest?patient=p1"


def run(coroutine_factory, *, max_pages: int = 10, max_response_bytes: int = 1_000_000, timeout: float = 2.0):
    async def main():
        async with httpx.AsyncClient(timeout=timeout) as http:
            client = FhirClient(http, max_pages=max_pages, max_response_bytes=max_response_bytes)
            return await coroutine_factory(client)

    return asyncio.run(main())


def search(query: str = QUERY, access: FhirAccess = ACCESS, **kwargs):
    return run(lambda client: client.search(access, query, roomy_budget()), **kwargs)


def roomy_budget() -> ReadBudget:
    """More than any test here needs: these tests are about faults, not limits."""
    return ReadBudget(max_requests=1000, max_bytes=100_000_000, max_concurrent=4)


def page(resources, next_url: str | None = None):
    bundle = searchset(resources)
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


# --- faults --------------------------------------------------------------------------------

FAULTS = {
    "connect timeout": httpx.ConnectTimeout("connect timed out"),
    "read timeout": httpx.ReadTimeout("read timed out"),
    "connection refused": httpx.ConnectError("refused"),
    "server error 500": httpx.Response(500, text="Internal Server Error"),
    "server unavailable 503": httpx.Response(503, json=operation_outcome("down")),
    "unauthorised 401": httpx.Response(401, json=operation_outcome("bad token")),
    "garbage body": httpx.Response(200, content=b"<html>oops</html>"),
    "truncated JSON": httpx.Response(200, content=b'{"resourceType": "Bundle", "entry": ['),
    "JSON that is not an object": httpx.Response(200, json=[1, 2, 3]),
    "OperationOutcome with status 200": httpx.Response(200, json=operation_outcome()),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=list(FAULTS))
@respx.mock
def test_a_failing_fhir_search_raises_a_fetch_error_not_a_crash(fault):
    route = respx.get(f"{BASE}/MedicationRequest")
    if isinstance(fault, Exception):
        route.mock(side_effect=fault)
    else:
        route.mock(return_value=fault)
    with pytest.raises(FhirFetchError):
        search()


@respx.mock
def test_a_response_over_the_size_cap_is_refused():
    respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(200, json=page([medication_request(OXYCODONE_5MG)] * 50))
    )
    with pytest.raises(FhirFetchError):
        search(max_response_bytes=1_000)


def test_a_server_that_accepts_but_never_answers_fails_at_the_read_timeout():
    with silent_tcp_server() as url:
        started = time.monotonic()
        with pytest.raises(FhirFetchError):
            search(access=FhirAccess(base_url=url, access_token=TOKEN), timeout=0.3)
        assert time.monotonic() - started < 2


def test_a_server_that_refuses_connections_fails_fast():
    started = time.monotonic()
    with pytest.raises(FhirFetchError):
        search(access=FhirAccess(base_url=closed_port_url(), access_token=TOKEN))
    assert time.monotonic() - started < 2


# --- headers and token -----------------------------------------------------------------------


@respx.mock
def test_the_search_sends_the_bearer_token_and_asks_for_fhir_json():
    route = respx.get(f"{BASE}/MedicationRequest").mock(return_value=httpx.Response(200, json=page([])))
    search()
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "application/fhir+json" in request.headers["Accept"]
    assert request.url.params["patient"] == "p1"


@respx.mock
def test_without_a_token_no_authorization_header_is_sent():
    route = respx.get(f"{BASE}/MedicationRequest").mock(return_value=httpx.Response(200, json=page([])))
    search(access=FhirAccess(base_url=BASE))
    assert "Authorization" not in route.calls.last.request.headers


@respx.mock
def test_a_redirect_to_another_origin_is_not_followed_and_the_token_does_not_leave():
    respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(302, headers={"Location": "http://attacker.test/steal"})
    )
    elsewhere = respx.get("http://attacker.test/steal").mock(return_value=httpx.Response(200, json=page([])))
    with pytest.raises(FhirFetchError):
        search()
    assert not elsewhere.called


# --- paging -----------------------------------------------------------------------------------


@respx.mock
def test_search_follows_next_links_and_returns_every_page():
    first = medication_request(OXYCODONE_5MG, id="a")
    second = medication_request(OXYCODONE_5MG, id="b")
    respx.get(f"{BASE}/MedicationRequest", params={"page": "2"}).mock(
        return_value=httpx.Response(200, json=page([second]))
    )
    first_route = respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(200, json=page([first], f"{BASE}/MedicationRequest?patient=p1&page=2"))
    )
    resources, complete = search()
    assert [r["id"] for r in resources] == ["a", "b"]
    assert complete
    assert first_route.call_count == 1


@respx.mock
def test_every_page_request_carries_the_token():
    respx.get(f"{BASE}/MedicationRequest", params={"page": "2"}).mock(return_value=httpx.Response(200, json=page([])))
    respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(200, json=page([], f"{BASE}/MedicationRequest?patient=p1&page=2"))
    )
    search()
    assert [c.request.headers.get("Authorization") for c in respx.calls] == [f"Bearer {TOKEN}"] * 2


@respx.mock
def test_paging_stops_at_the_page_cap_and_says_the_result_is_incomplete():
    counter = {"n": 0}

    def endless(request):
        counter["n"] += 1
        return httpx.Response(
            200,
            json=page([medication_request(OXYCODONE_5MG)], f"{BASE}/MedicationRequest?patient=p1&page={counter['n']}"),
        )

    respx.get(f"{BASE}/MedicationRequest").mock(side_effect=endless)
    resources, complete = search(max_pages=3)
    assert counter["n"] == 3
    assert len(resources) == 3
    assert not complete


@respx.mock
def test_a_next_link_to_another_origin_is_not_followed():
    respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(200, json=page([], "http://other.test/fhir/MedicationRequest?page=2"))
    )
    other = respx.get("http://other.test/fhir/MedicationRequest").mock(return_value=httpx.Response(200, json=page([])))
    _, complete = search()
    assert not other.called
    assert not complete


@respx.mock
def test_a_next_link_pointing_back_to_itself_does_not_loop():
    route = respx.get(f"{BASE}/MedicationRequest").mock(
        return_value=httpx.Response(200, json=page([], f"{BASE}/{QUERY}"))
    )
    search()
    assert route.call_count == 1


@respx.mock
def test_a_bundle_without_type_or_entries_is_an_empty_result():
    respx.get(f"{BASE}/MedicationRequest").mock(return_value=httpx.Response(200, json={"resourceType": "Bundle"}))
    assert search() == ([], True)
