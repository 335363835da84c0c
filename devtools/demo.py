"""``make demo``: send every fixture scenario to a running service and print the cards."""

from __future__ import annotations

import argparse
import sys
import textwrap
from datetime import date

import httpx

from devtools.fixtures import hook_request, scenarios

SERVICE_IDS = {"order-select": "ldn-order-select", "order-sign": "ldn-order-sign", "patient-view": "ldn-patient-view"}
_MARK = {"critical": "!!", "warning": "! ", "info": "i "}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--service-url", default="http://127.0.0.1:8000")
    parser.add_argument("--only", default=None, help="run scenarios whose name contains this text")
    args = parser.parse_args()
    base = args.service_url.rstrip("/")
    today = date.today()  # fixtures are shifted so their story holds today
    with httpx.Client(timeout=10) as client:
        try:
            client.get(f"{base}/cds-services").raise_for_status()
        except httpx.HTTPError as exc:
            print(f"cannot reach the service at {base} ({exc}); start it with `make run`", file=sys.stderr)
            return 1
        for scenario in scenarios():
            if args.only and args.only not in scenario.name:
                continue
            request = hook_request(scenario, today=today)
            response = client.post(f"{base}/cds-services/{SERVICE_IDS[scenario.hook]}", json=request)
            print(f"\n=== {scenario.name} [{scenario.hook}] — {scenario.description}")
            if response.status_code != 200:
                print(f"  HTTP {response.status_code}: {response.text}")
                continue
            cards = response.json()["cards"]
            if not cards:
                print("  (no cards)")
            for card in cards:
                print(f"  [{_MARK[card['indicator']]}] {card['indicator'].upper()}: {card['summary']}")
                for line in card.get("detail", "").splitlines():
                    print(textwrap.indent(textwrap.fill(line, 96) if line else "", "        "))
                for suggestion in card.get("suggestions", []):
                    print(f"        -> suggestion: {suggestion['label']}")
                print(f"        source: {card['source']['label']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
