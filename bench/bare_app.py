"""The yardstick: a bare FastAPI endpoint that parses the same payload and returns no cards.

Our throughput is printed as a ratio of this one, measured in the same run on the
same machine, so the ratio holds where absolute numbers do not.
Run: ``uvicorn bench.bare_app:create_app --factory``.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

_NO_CARDS = orjson.dumps({"cards": []})


def create_app() -> FastAPI:
    app = FastAPI(title="bare CDS Hooks endpoint (benchmark baseline)")

    @app.post("/cds-services/{service_id}")
    async def invoke(service_id: str, request: Request) -> Response:
        orjson.loads(await request.body())
        return Response(_NO_CARDS, media_type="application/json")

    return app
