from devtools.fixtures import hook_request, scenario
from tests.conformance import assert_conformant_response


def test_naltrexone_for_a_patient_on_oxycodone_gets_a_critical_card(client):
    response = client.post("/cds-services/ldn-order-select", json=hook_request(scenario("oxycodone-active-ldn-select")))
    assert response.status_code == 200
    cards = assert_conformant_response(response.json())
    assert cards[0]["indicator"] == "critical"
    assert "oxycodone" in cards[0]["summary"]
