"""The loopback FHIR server of the fallback benchmark: fixtures + the bench patients, slow on purpose.

``python -m bench.fhir_backend --port 8091 --delay-ms 100 --page-size 1000 --today 2026-11-26``
serves ``devtools.fhir_server`` over the fixture patients plus ``bench-typical`` and
``bench-heavy`` (see ``bench.workloads``), adding ``--delay-ms`` to every query.
``--medications N`` adds the N Medications of ``bench.references`` (for ``bench.availability``).
"""

from __future__ import annotations

import argparse
from datetime import date

import uvicorn

from bench import references
from bench.workloads import SIZES, patient_id_for, patient_workload
from devtools.fhir_server import FhirServerConfig, FixtureStore, create_fhir_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=100.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--today", default=None)
    parser.add_argument("--medications", type=int, default=0)
    args = parser.parse_args()
    today = date.fromisoformat(args.today) if args.today else date.today()
    extra = {patient_id_for(size): patient_workload(size, today) for size in SIZES.values()}
    if args.medications:
        extra[references.PATIENT_ID] = references.patient_resources(args.medications)
    config = FhirServerConfig(delay_seconds=args.delay_ms / 1000, page_size=args.page_size, today=today)
    app = create_fhir_app(config, FixtureStore(today, extra=extra))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
