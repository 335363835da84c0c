"""Print a ready-made CDS Hooks request for a fixture scenario, dated today.

    python -m devtools.example --list
    python -m devtools.example oxycodone-active-ldn-select > request.json
    python -m devtools.example oxycodone-active-ldn-select \\
      | curl -s -X POST http://localhost:8000/cds-services/ldn-order-select \\
             -H 'Content-Type: application/json' -d @-

The fixture patients are written as of one day; every date in the request is moved to
today (or ``--today``), so a "dispensed 16 days ago" stays 16 days ago whenever it runs
and each scenario gives the cards it promises. Needs the repository (``fhir_fixtures/``),
not the container image.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date

from devtools.fixtures import hook_request, scenarios

SERVICE_FOR_HOOK = {
    "order-select": "ldn-order-select",
    "order-sign": "ldn-order-sign",
    "patient-view": "ldn-patient-view",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.example", description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="scenario name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and the service each one calls")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="date to move the fixtures to (default: today)"
    )
    parser.add_argument(
        "--no-prefetch", action="store_true", help="leave prefetch out (the service then reads --fhir-server)"
    )
    parser.add_argument("--fhir-server", default=None, help="fhirServer to put in the request")
    args = parser.parse_args(argv)

    if args.list:
        for scenario in scenarios():
            print(f"{scenario.name:50} POST /cds-services/{SERVICE_FOR_HOOK[scenario.hook]}")
            print(f"{'':50} {scenario.description}")
        return 0
    found = {scenario.name: scenario for scenario in scenarios()}
    if args.name is None:
        parser.print_usage(sys.stderr)
        print("give a scenario name; `python -m devtools.example --list` lists them", file=sys.stderr)
        return 2
    if args.name not in found:
        print(f"unknown scenario {args.name!r}; `python -m devtools.example --list` lists them", file=sys.stderr)
        return 2
    request = hook_request(
        found[args.name],
        with_prefetch=not args.no_prefetch,
        fhir_server=args.fhir_server,
        today=args.today or date.today(),
    )
    try:
        print(json.dumps(request, indent=2))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
