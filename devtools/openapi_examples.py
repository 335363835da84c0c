"""Write ``app/api/openapi_examples.json``: the request and response examples of ``/openapi.json``.

Built from a fixture scenario, dated as the fixtures are, and answered by the service itself
in-process. ``tests/api/test_openapi.py`` checks that the file is what this builds and that
the service still answers the example request with the example cards.

    python -m devtools.openapi_examples
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.api.openapi import EXAMPLES_FILE
from app.main import create_app
from app.settings import Environment, Settings
from devtools.fixtures import FIXTURE_TODAY, hook_request, scenario

SCENARIO = "oxycodone-active-ldn-select"
SERVICE = "ldn-order-select"
TARGET = Path(__file__).resolve().parent.parent / "app" / "api" / EXAMPLES_FILE


def example_request() -> dict[str, Any]:
    request = hook_request(scenario(SCENARIO))
    request["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldn-cds:openapi-example:{SCENARIO}"))
    return request


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """What the service answers to ``request`` on the fixtures' day."""
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(env=Environment.development, database_url=f"sqlite:///{directory}/examples.db")
        with TestClient(create_app(settings, today=lambda: FIXTURE_TODAY)) as client:
            response = client.post(f"/cds-services/{SERVICE}", json=request)
    response.raise_for_status()
    return response.json()


def build() -> dict[str, Any]:
    request = example_request()
    cards = answer(request)
    first = cards["cards"][0]
    feedback = {
        "feedback": [
            {
                "card": first["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": first["overrideReasons"][0]},
                "outcomeTimestamp": f"{FIXTURE_TODAY.isoformat()}T10:15:00Z",
            }
        ]
    }
    return {"hookRequest": request, "cardsResponse": cards, "feedbackRequest": feedback}


def examples_on_disk() -> dict[str, Any]:
    return json.loads(TARGET.read_text(encoding="utf-8"))


def main() -> None:
    TARGET.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
