"""The example requests in fhir_fixtures/requests/ (README's curl example) are current and valid."""

from __future__ import annotations

from devtools.build_requests import build
from devtools.fixtures import ROOT
from tests.conformance import assert_conformant_response


def test_example_requests_match_what_the_fixtures_build():
    stale = [name for name, text in build().items() if (ROOT / "requests" / name).read_text() != text]
    assert stale == [], "run `make fixtures` and commit fhir_fixtures/requests/"


def test_the_readme_curl_example_gets_the_critical_card(client):
    body = (ROOT / "requests" / "oxycodone-active-ldn-select.json").read_bytes()
    response = client.post("/cds-services/ldn-order-select", content=body, headers={"Content-Type": "application/json"})
    cards = assert_conformant_response(response.json())
    assert cards[0]["indicator"] == "critical" and "oxycodone" in cards[0]["summary"]
