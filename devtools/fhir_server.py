"""A small read-only FHIR R4 server over the fixture patients, for tests, demo and bench.

Real HTTP on loopback: ``python -m devtools.fhir_server --port 8081``. It answers
reads (``/Type/id``), patient searches (``/Type?patient=id``, GET or POST ``_search``)
with paging and ``_include=…:medication``, searches by id (``/Type?_id=a,b``), and
``/metadata``; it can demand a bearer token, add latency, and record the
Authorization headers it saw, so tests can check what the service sent.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devtools.fixtures import FIXTURE_TODAY, patient_resources, patient_slugs

FHIR_JSON = "application/fhir+json"


@dataclass
class FhirServerConfig:
    required_token: str | None = None
    delay_seconds: float = 0.0
    page_size: int = 50
    today: date = FIXTURE_TODAY
    seen_authorization: list[str | None] = field(default_factory=list)
    seen_paths: list[str] = field(default_factory=list)
    in_flight: int = 0  # requests inside their delay right now
    peak_in_flight: int = 0  # the most at once, for tests of a client's concurrency limit


class FixtureStore:
    def __init__(self, today: date, extra: dict[str, list[dict[str, Any]]] | None = None):
        self.by_id: dict[tuple[str, str], dict[str, Any]] = {}
        self.by_patient: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        patients = {slug: patient_resources(slug, today) for slug in patient_slugs()}
        patients.update(extra or {})
        for resources in patients.values():
            patient_id = next(r["id"] for r in resources if r["resourceType"] == "Patient")
            for resource in resources:
                self.by_id[(resource["resourceType"], resource["id"])] = resource
                if resource["resourceType"] not in {"Patient", "Medication"}:
                    self.by_patient[(resource["resourceType"], patient_id)].append(resource)


def _outcome(status: int, text: str) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": text}],
    }
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def _medication_ids(resources: list[dict[str, Any]]) -> list[str]:
    references = (r.get("medicationReference", {}).get("reference", "") for r in resources)
    return [ref.split("/", 1)[1] for ref in references if ref.startswith("Medication/")]


def create_fhir_app(config: FhirServerConfig | None = None, store: FixtureStore | None = None) -> Starlette:
    config = config or FhirServerConfig()
    store = store or FixtureStore(config.today)

    async def guard(request: Request) -> JSONResponse | None:
        authorization = request.headers.get("authorization")
        config.seen_authorization.append(authorization)
        config.seen_paths.append(request.url.path + ("?" + request.url.query if request.url.query else ""))
        if config.delay_seconds:
            config.in_flight += 1
            config.peak_in_flight = max(config.peak_in_flight, config.in_flight)
            try:
                await asyncio.sleep(config.delay_seconds)
            finally:
                config.in_flight -= 1
        if config.required_token and authorization != f"Bearer {config.required_token}":
            return _outcome(401, "missing or wrong bearer token")
        return None

    async def metadata(request: Request) -> JSONResponse:
        body = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
        }
        return JSONResponse(body, media_type=FHIR_JSON)

    async def search(request: Request) -> JSONResponse:
        if (denied := await guard(request)) is not None:
            return denied
        resource_type = request.path_params["type"]
        params = dict(request.query_params)
        if request.method == "POST":  # FHIR search via POST {type}/_search, form-encoded
            params.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
        patient = params.get("patient", "").removeprefix("Patient/")
        if "_id" in params:  # `Medication?_id=a,b,c`: the resources with these ids, in one Bundle
            ids = dict.fromkeys(params["_id"].split(","))
            found = [r for i in ids if (r := store.by_id.get((resource_type, i))) is not None]
        else:
            found = store.by_patient.get((resource_type, patient), [])
        page = int(params.get("page", "0"))
        size = config.page_size
        chunk = found[page * size : (page + 1) * size]
        base = str(request.base_url).rstrip("/")
        links = [{"relation": "self", "url": str(request.url)}]
        if (page + 1) * size < len(found):
            links.append({"relation": "next", "url": f"{base}/{resource_type}?patient={patient}&page={page + 1}"})
        entries = [
            {"fullUrl": f"{base}/{resource_type}/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in chunk
        ]
        if params.get("_include", "").endswith(":medication"):
            for medication_id in dict.fromkeys(_medication_ids(chunk)):
                if (medication := store.by_id.get(("Medication", medication_id))) is not None:
                    entries.append(
                        {
                            "fullUrl": f"{base}/Medication/{medication_id}",
                            "resource": medication,
                            "search": {"mode": "include"},
                        }
                    )
        body = {"resourceType": "Bundle", "type": "searchset", "total": len(found), "link": links, "entry": entries}
        return JSONResponse(body, media_type=FHIR_JSON)

    async def read(request: Request) -> JSONResponse:
        if (denied := await guard(request)) is not None:
            return denied
        resource = store.by_id.get((request.path_params["type"], request.path_params["id"]))
        if resource is None:
            return _outcome(404, "not found")
        return JSONResponse(resource, media_type=FHIR_JSON)

    return Starlette(
        routes=[
            Route("/metadata", metadata),
            Route("/{type}", search),
            Route("/{type}/_search", search, methods=["POST"]),
            Route("/{type}/{id}", read),
        ],
        middleware=[
            Middleware(CORSMiddleware, allow_origins=["*"], allow_headers=["*"], allow_methods=["GET", "POST"])
        ],
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--token", default=None, help="bearer token to require")
    parser.add_argument("--today", default=None, help="date the fixtures are shifted to (default: real today)")
    args = parser.parse_args()
    today = date.fromisoformat(args.today) if args.today else date.today()
    config = FhirServerConfig(required_token=args.token, delay_seconds=args.delay_ms / 1000, today=today)
    uvicorn.run(create_fhir_app(config), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
