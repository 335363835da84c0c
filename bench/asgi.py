"""Call an ASGI app in-process, without a server or a network: the service's own time.

``AsgiDriver`` runs the app's lifespan (so ``app.state`` is wired as under uvicorn)
and sends one HTTP request at a time straight into the ASGI callable.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

Message = dict[str, Any]


class AsgiDriver:
    def __init__(self, app: Any):
        self.app = app
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> AsgiDriver:
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench.local"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)  # the app never waits for a disconnect here
            return {"type": "http.disconnect"}

        status = 0
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)
