"""Keys, signed tokens and tiny loopback servers for the security, feedback and ops tests.

Keys are generated per test session (never checked in); tokens are signed for real with
PyJWT, except the deliberately forged ones (``alg: none``, HMAC with the public key),
which are assembled by hand because PyJWT rightly refuses to make them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.cli import main as cli_main
from app.settings import Settings
from tests.support.servers import LOOPBACK

BASE_URL = "https://cds.test"  # CDS_PUBLIC_BASE_URL in these tests; aud = BASE_URL + path
ADMIN_PORT = 9464  # CDS_ADMIN_PORT of the production apps here, as in the image: /metrics is only there
ISSUER = "https://ehr.test/cds-client"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_key: Any

    @property
    def public_jwk(self) -> dict[str, Any]:
        algorithm = jwt.algorithms.ECAlgorithm if self.alg == "ES384" else jwt.algorithms.RSAAlgorithm
        jwk = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def es384_key(kid: str | None = None) -> SigningKey:
    return SigningKey(kid or f"es-{uuid.uuid4()}", "ES384", ec.generate_private_key(ec.SECP384R1()))


def rs384_key(kid: str | None = None) -> SigningKey:
    return SigningKey(
        kid or f"rs-{uuid.uuid4()}", "RS384", rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in keys]}


def claims(aud: str | list[str], *, iss: str = ISSUER, lifetime: int = 300, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": iss, "aud": aud, "iat": now, "exp": now + lifetime, "jti": str(uuid.uuid4()), **extra}


def mint(
    key: SigningKey,
    path: str = "/cds-services",
    *,
    header: Mapping[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claim_overrides: Any,
) -> str:
    """A token signed with ``key`` for ``BASE_URL + path``; claims and header overridable."""
    payload = claims(BASE_URL + path)
    payload.update(claim_overrides)
    for name in drop:
        payload.pop(name, None)
    headers = {"typ": "JWT", "kid": key.kid, **(header or {})}
    # None removes a header; PyJWT drops its default "typ" when given a falsy one.
    headers = {k: v for k, v in headers.items() if v is not None or k == "typ"}
    return jwt.encode(payload, key.private_key, algorithm=key.alg, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: Mapping[str, Any], payload: Mapping[str, Any], secret: bytes | None = None) -> str:
    """A hand-made token: unsigned (``secret`` None) or HMAC-SHA256 signed with ``secret``."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = "" if secret is None else _b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    return f"{signing_input}.{signature}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------ configuration


def write_issuers(directory: Path, entries: list[dict[str, Any]]) -> Path:
    path = directory / "trusted-issuers.json"
    path.write_text(json.dumps(entries, indent=2))
    return path


# Production refuses to start without one; any 32+ characters do for tests.
DEPLOYMENT_SECRET = "test-deployment-secret-0123456789abcdef"


def production_settings(directory: Path, issuers_file: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "production",
        "public_base_url": BASE_URL,
        "trusted_issuers_file": issuers_file,
        "database_url": f"sqlite:///{directory}/cds.db",
        "jwks_min_refresh_seconds": 3600,  # tests that rotate keys lower it
        "admin_port": ADMIN_PORT,
        "deployment_secret": DEPLOYMENT_SECRET,
    }
    values.update(overrides)
    return Settings(**values)


# ---------------------------------------------------------------- loopback servers


@dataclass
class JsonServer:
    """A real HTTP server on loopback serving fixed JSON documents, counting every hit."""

    documents: dict[str, Any]
    base_url: str = ""
    hits: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base_url + path


@contextlib.contextmanager
def json_server(documents: dict[str, Any] | None = None) -> Iterator[JsonServer]:
    state = JsonServer(documents=dict(documents or {}))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits[self.path] += 1
            document = state.documents.get(self.path)
            body = json.dumps(document).encode() if document is not None else b"{}"
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    state.base_url = f"http://{LOOPBACK}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- start-up refusals


def serve_refusal(
    tmp_path: Path, issuers: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """``ldn-cds serve`` in production with ``issuers``: (exit status, stderr) of its refusal."""
    monkeypatch.setenv("CDS_ENV", "production")
    monkeypatch.setenv("CDS_PUBLIC_BASE_URL", "https://cds.example")
    monkeypatch.setenv("CDS_TRUSTED_ISSUERS_FILE", str(issuers))
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path}/cds.db")
    with pytest.raises(SystemExit) as exited:
        cli_main(["serve", "--port", "1"])
    return int(exited.value.code or 0), capsys.readouterr().err
