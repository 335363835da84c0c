"""Failing FHIR servers: answered within the deadline, with what is known, never a 5xx.

The service reads the record from a real loopback server that fails on purpose
(``loopback.HostileFhirServer``: one path prefix per failure). With naltrexone
ordered and nothing readable, the answer must carry the "Opioid use not fully
checked" warning: a safety check that did not run is never silent.
"""

from __future__ import annotations

import concurrent.futures
import json
import time

import httpx
import pytest

from app.main import create_app
from devtools.fixtures import FIXTURE_TODAY
from tests.support.cards import CONFLICT_PREFIX
from tests.support.loopback import HOLD_SECONDS, HostileFhirServer
from tests.support.robustness import (
    DEADLINE_SECONDS,
    UNCHECKED_PREFIX,
    base_request,
    judge,
    robust_settings,
    service_client,
    summaries,
    timed_post,
)
from tests.support.servers import LOOPBACK, free_port, serve_in_thread

SELECT = "ldn-order-select"
VIEW = "ldn-patient-view"
TOKEN = "robustness-secret-token"
# Deadline plus the service's own work and a slow CI machine's scheduling.
ANSWER_WITHIN = DEADLINE_SECONDS + 0.5
MAX_RESPONSE_BYTES = 1024 * 1024

FAILURES = [
    "slow",
    "trickle",
    "error-500",
    "error-503",
    "unauthorized",
    "garbage",
    "html",
    "json-array",
    "outcome-200",
    "reset",
    "close",
    "truncated",
    "not-http",
    "redirect-loop",
    "redirect-chain",
    "redirect-away",
    "endless-next",
    "slow-endless-next",
    "next-away",
    "huge",
]


@pytest.fixture(scope="module")
def fhir():
    with HostileFhirServer() as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    settings = robust_settings(tmp_path_factory.mktemp("fallback"), fhir_max_response_bytes=MAX_RESPONSE_BYTES)
    with service_client(settings) as client:
        yield client


def _no_prefetch(fhir_server: str, name: str = "refractory-fibromyalgia-ldn-select") -> dict:
    return base_request(name, with_prefetch=False, fhir_server=fhir_server, access_token=TOKEN)


def test_a_healthy_empty_server_gives_no_unchecked_card(service, fhir):
    """The control: the harness can tell a working server from a failing one."""
    response, seconds = timed_post(service, SELECT, _no_prefetch(fhir.url("ok")))
    cards = judge(response)
    assert response.status_code == 200
    assert not [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
    assert seconds < ANSWER_WITHIN


@pytest.mark.parametrize("mode", FAILURES)
def test_naltrexone_ordered_with_a_failing_fhir_server_says_opioid_use_was_not_checked(service, fhir, mode):
    response, seconds = timed_post(service, SELECT, _no_prefetch(fhir.url(mode)))
    cards = judge(response)
    assert response.status_code == 200, response.text[:300]
    assert [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
    assert seconds < ANSWER_WITHIN, f"{mode}: answered after {seconds:.2f} s"
    assert fhir.requests_for(mode), f"{mode}: the service never asked"


@pytest.mark.parametrize("mode", ["error-500", "slow"])
def test_diagnoses_that_could_not_be_read_are_not_reported_as_absent(service, fhir, mode):
    """The Condition search failed: "no LDN-studied condition on record" would state as
    fact what was never read (the patient has fibromyalgia)."""
    cards = judge(timed_post(service, SELECT, _no_prefetch(fhir.url(mode)))[0])
    claims = [s for s in summaries(cards) if "no LDN-studied condition" in s]
    assert not claims, claims


@pytest.mark.parametrize("mode", ["slow", "trickle", "garbage", "reset", "endless-next", "redirect-loop"])
def test_patient_view_with_a_failing_fhir_server_answers_within_the_deadline(service, fhir, mode):
    response, seconds = timed_post(service, VIEW, _no_prefetch(fhir.url(mode), "refractory-fibromyalgia-patient-view"))
    judge(response)
    assert response.status_code == 200, response.text[:300]
    assert seconds < ANSWER_WITHIN, f"{mode}: answered after {seconds:.2f} s"


def test_a_server_that_refuses_connections_is_answered_at_once(service):
    response, seconds = timed_post(service, SELECT, _no_prefetch(f"http://{LOOPBACK}:{free_port()}/fhir"))
    cards = judge(response)
    # DESIGN §2 allows 412 for an unreachable server; a 200 must then say what was not checked.
    assert response.status_code in {200, 412}
    if response.status_code == 200:
        assert [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
    assert seconds < ANSWER_WITHIN


def test_the_token_never_leaves_the_fhir_server_origin(service, fhir):
    for mode in ("redirect-away", "next-away"):
        judge(timed_post(service, SELECT, _no_prefetch(fhir.url(mode)))[0])
    assert fhir.requests_for("redirect-away") and fhir.requests_for("next-away")
    leaked = [s for s in fhir.on_other_port() if s.authorization]
    assert not leaked, leaked


def test_paging_stops_at_the_page_cap(service, fhir):
    """Every ``endless-next`` page links to ``?page=n+1``: the page numbers seen say how
    far any one search was followed (``fhir_max_pages`` is 10)."""
    before = len(fhir.requests_for("endless-next"))
    judge(timed_post(service, SELECT, _no_prefetch(fhir.url("endless-next")))[0])
    seen = fhir.requests_for("endless-next")[before:]
    pages = [int(s.target.rsplit("page=", 1)[1]) for s in seen if "page=" in s.target]
    assert seen and max(pages, default=0) < 10, f"a search was followed to page {max(pages)}"
    assert len(seen) <= 100, f"{len(seen)} requests for one hook call"


def test_redirects_are_followed_a_bounded_number_of_times(service, fhir):
    """Each answer of ``redirect-chain`` redirects to ``?hop=n+1``: the hop numbers seen
    say how far any one chain was followed."""
    before = len(fhir.requests_for("redirect-chain"))
    judge(timed_post(service, SELECT, _no_prefetch(fhir.url("redirect-chain")))[0])
    seen = fhir.requests_for("redirect-chain")[before:]
    hops = [int(s.target.rsplit("hop=", 1)[1]) for s in seen if "hop=" in s.target]
    assert seen and max(hops, default=0) <= 5, f"a redirect chain was followed {max(hops)} times"
    assert len(seen) <= 60, f"{len(seen)} requests for one hook call"


def test_partial_prefetch_with_a_failing_server_keeps_what_was_sent_and_flags_the_rest(service, fhir):
    """Prefetch has the prescriptions (with the active oxycodone); the rest must be read and fails."""
    body = base_request("oxycodone-active-ldn-select", fhir_server=fhir.url("error-500"), access_token=TOKEN)
    for key in ("medicationStatements", "medicationDispenses", "medicationAdministrations", "conditions"):
        del body["prefetch"][key]
    response, seconds = timed_post(service, SELECT, body)
    cards = judge(response)
    assert response.status_code == 200
    assert [s for s in summaries(cards) if s.startswith(CONFLICT_PREFIX)], summaries(cards)
    assert seconds < ANSWER_WITHIN


def test_a_medication_reference_that_cannot_be_read_in_time_is_flagged(service, fhir):
    body = base_request(fhir_server=fhir.url("slow"), access_token=TOKEN)
    entries = body["prefetch"]["medicationRequests"]["entry"]
    entries.append(
        {
            "resource": {
                "resourceType": "MedicationRequest",
                "id": "by-reference",
                "status": "active",
                "intent": "order",
                "subject": {"reference": f"Patient/{body['context']['patientId']}"},
                "medicationReference": {"reference": "Medication/unknown-until-read"},
            }
        }
    )
    response, seconds = timed_post(service, SELECT, body)
    cards = judge(response)
    assert [s for s in summaries(cards) if s.startswith(UNCHECKED_PREFIX)], summaries(cards)
    assert seconds < ANSWER_WITHIN


# ---------------------------------------------------------------- a real worker under failing servers


def test_a_real_worker_abandons_slow_reads_and_stays_responsive(tmp_path, fhir):
    """24 concurrent calls against held connections: each answered near the deadline, each
    held FHIR connection closed by the service (not left running), and the worker then
    still answers at once with a working FHIR server."""
    settings = robust_settings(tmp_path, fhir_max_response_bytes=MAX_RESPONSE_BYTES)
    modes = ["slow", "trickle", "slow-endless-next"] * 8
    began_at = time.monotonic()
    with serve_in_thread(create_app(settings, today=lambda: FIXTURE_TODAY), lifespan="on") as server:

        def call(mode: str) -> tuple[int, float, list[str]]:
            body = json.dumps(_no_prefetch(fhir.url(mode))).encode()
            started = time.monotonic()
            response = httpx.post(
                f"{server.base_url}/cds-services/{SELECT}",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=HOLD_SECONDS + 5,
            )
            cards = judge(response)
            return response.status_code, time.monotonic() - started, summaries(cards)

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(modes)) as pool:
            results = list(pool.map(call, modes))
        for mode, (status, seconds, cards) in zip(modes, results, strict=True):
            assert status == 200
            assert [s for s in cards if s.startswith(UNCHECKED_PREFIX)], (mode, cards)
            # 24 concurrent calls on a 2-core machine that may be busy (CI): 2 s of slack still
            # tells an abandoned read (deadline) from one waited out (HOLD_SECONDS, 8 s).
            assert seconds < ANSWER_WITHIN + 2.0, f"{mode}: {seconds:.2f} s under concurrency"

        # Every held connection was hung up by the service soon after its deadline.
        time.sleep(0.3)
        held = [s for s in fhir.seen if s.mode in {"slow", "trickle"} and s.received_at >= began_at]
        assert held
        late = [s for s in held if s.client_gone_after is None or s.client_gone_after > DEADLINE_SECONDS + 1.0]
        assert not late, [(s.mode, s.client_gone_after) for s in late]

        status, seconds, cards = call("ok")
        assert status == 200 and not [s for s in cards if s.startswith(UNCHECKED_PREFIX)], cards
        assert seconds < 1.0, f"a healthy call took {seconds:.2f} s after the failing ones"
