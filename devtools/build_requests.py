"""Write ``fhir_fixtures/requests/<scenario>.json``: complete hook requests with prefetch.

Dated as of ``FIXTURE_TODAY``. They are for curl and for reading; tests and the
demo build theirs from the same sources, shifted to the day they run.
"""

from __future__ import annotations

import json
import uuid

from devtools.fixtures import ROOT, hook_request, scenarios


def build() -> dict[str, str]:
    """File name -> JSON text of every scenario's request."""
    files = {}
    for scenario in scenarios():
        request = hook_request(scenario)
        request["hookInstance"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ldn-cds:fixture:{scenario.name}"))
        files[f"{scenario.name}.json"] = json.dumps(request, indent=2) + "\n"
    return files


def main() -> None:
    target = ROOT / "requests"
    target.mkdir(exist_ok=True)
    for old in target.glob("*.json"):
        old.unlink()
    for name, text in build().items():
        (target / name).write_text(text)
    print(f"wrote {len(scenarios())} requests to {target}")


if __name__ == "__main__":
    main()
