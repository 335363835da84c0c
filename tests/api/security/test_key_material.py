"""Bad key material, slow and failing JWK Set servers (issue 11): never a 500, never a hang,
never a key trusted for ever.

Real keys, real signed tokens, real JWKS servers on loopback; the stale-age rule is checked
on the cache itself with a controlled clock, the rest through the production app.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.deadline import Deadline
from app.security.issuers import IssuersFileError, build_registry, load_issuers_file
from app.security.jwks import JwksCache
from app.security.keys import UnusableKey, read_jwks
from tests.support.loopback import HostileFhirServer
from tests.support.robustness import UNCHECKED_PREFIX, base_request
from tests.support.security import (
    ISSUER,
    JsonServer,
    SigningKey,
    bearer,
    es384_key,
    json_server,
    jwks,
    mint,
    production_settings,
    rs384_key,
    serve_refusal,
    write_issuers,
)
from tests.support.servers import asgi_server

# The example key of docs/deployment.md's issuers file: "x" and "y" are placeholders, not coordinates.
PLACEHOLDER_KEY = {"kty": "EC", "crv": "P-384", "kid": "2024-1", "x": "…", "y": "…", "alg": "ES384", "use": "sig"}


def malformed_keys(good: SigningKey) -> list[dict[str, Any]]:
    """Keys with a kid that look right but cannot be built (each once gave InvalidKeyError)."""
    jwk = good.public_jwk
    return [
        {**PLACEHOLDER_KEY, "kid": "placeholder"},
        {**jwk, "kid": "short-x", "x": jwk["x"][:10]},
        {**jwk, "kid": "x-not-text", "x": 12345},
        {"kty": "RSA", "kid": "bad-rsa", "n": "x", "e": "AQAB", "alg": "RS384"},
        {"kty": "EC", "crv": "P-384", "kid": "no-coordinates"},
        {**jwk, "kid": "alg-list", "alg": ["ES384"]},
    ]


# ------------------------------------------------------------------ reading a JWK Set


def test_malformed_keys_are_skipped_with_their_kid_and_the_good_key_kept() -> None:
    good = es384_key("good")
    found = read_jwks({"keys": [*malformed_keys(good), good.public_jwk]})
    assert set(found.keys) == {"good"}
    assert [s.kid for s in found.skipped] == [k["kid"] for k in malformed_keys(good)]
    assert all(s.reason and "\n" not in s.reason for s in found.skipped)


_ES, _RS = es384_key("fuzz-es"), rs384_key("fuzz-rs")
JWK_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from(["ES384", "RS384"]),
    changes=st.dictionaries(
        st.sampled_from(["kty", "crv", "kid", "x", "y", "n", "e", "alg", "use", "d", "key_ops"]), JWK_VALUES, max_size=4
    ),
)
def test_any_key_shape_is_taken_or_skipped_never_raised(base: str, changes: dict) -> None:
    key = _ES if base == "ES384" else _RS
    jwk = {**key.public_jwk, **changes}
    found = read_jwks({"keys": [jwk]})  # must not raise
    assert len(found.keys) + len(found.skipped) == 1


@pytest.mark.parametrize("value", [None, [], "keys", {"keys": "x"}, {"keys": {}}])
def test_something_that_is_not_a_jwk_set_is_refused_as_a_whole(value: Any) -> None:
    with pytest.raises(UnusableKey):
        read_jwks(value)


# ------------------------------------------------------------------ the issuers file at start-up


def readme_example(tmp_path: Path, jwks_url: str) -> Path:
    """docs/deployment.md's issuers-file example as written (its placeholder key included)."""
    return write_issuers(
        tmp_path,
        [
            {
                "iss": "https://ehr.example.org/cds-client",
                "jwks_url": jwks_url,
                "fhir_servers": ["https://ehr.example.org/fhir/r4"],
            },
            {"iss": "https://partner.example.net", "jwks": {"keys": [PLACEHOLDER_KEY]}, "fhir_servers": []},
        ],
    )


def test_the_readme_example_with_its_placeholder_key_refuses_to_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with json_server({"/jwks.json": jwks(es384_key())}) as keys:
        code, error = serve_refusal(tmp_path, readme_example(tmp_path, keys.url("/jwks.json")), monkeypatch, capsys)
        assert not keys.hits, "jwks_url is fetched only when a token needs it, never at start-up"
    assert code == 2
    assert error.count("\n") == 1 and error.startswith("ldn-cds: refusing to start:"), error
    assert "https://partner.example.net" in error and "no usable key" in error and "2024-1" in error


def test_one_malformed_inline_key_beside_a_good_one_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = es384_key("good")
    path = write_issuers(
        tmp_path, [{"iss": ISSUER, "jwks": {"keys": [PLACEHOLDER_KEY, good.public_jwk]}, "fhir_servers": []}]
    )
    (issuer,) = load_issuers_file(path)
    assert set(issuer.inline_keys) == {"good"}
    with caplog.at_level(logging.WARNING, logger="ldn_cds.security"):
        build_registry(production_settings(tmp_path, path))
    (warning,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert ISSUER in warning.getMessage() and "'2024-1'" in warning.getMessage()
    assert warning.iss == ISSUER and warning.kid == "2024-1"


def test_an_inline_private_key_still_stops_start_up(tmp_path: Path) -> None:
    key = es384_key("k")
    private = {**key.public_jwk, "d": "c2VjcmV0"}
    path = write_issuers(
        tmp_path, [{"iss": ISSUER, "jwks": {"keys": [private, es384_key("other").public_jwk]}, "fhir_servers": []}]
    )
    with pytest.raises(IssuersFileError, match="private key"):
        load_issuers_file(path)


# ------------------------------------------------------------------ keys fetched from jwks_url


@pytest.fixture
def mixed_jwks(es_key: SigningKey) -> Any:
    with json_server({"/jwks.json": {"keys": [*malformed_keys(es_key), es_key.public_jwk]}}) as server:
        yield server


def test_one_bad_key_at_the_jwks_url_does_not_break_calls_signed_with_the_good_key(
    make_client: Callable[..., TestClient],
    issuer_entry: dict,
    es_key: SigningKey,
    mixed_jwks: JsonServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(issuers=[{**issuer_entry, "jwks_url": mixed_jwks.url("/jwks.json")}])
    with caplog.at_level(logging.WARNING, logger="ldn_cds.security"):
        response = client.get("/cds-services", headers=bearer(mint(es_key)))
    assert response.status_code == 200
    skipped = {r.kid for r in caplog.records if getattr(r, "iss", None) == ISSUER and "skipped" in r.getMessage()}
    assert skipped == {k["kid"] for k in malformed_keys(es_key)}


def test_a_token_naming_the_malformed_key_is_a_bare_401_not_a_500(
    make_client: Callable[..., TestClient], issuer_entry: dict, mixed_jwks: JsonServer
) -> None:
    client = make_client(issuers=[{**issuer_entry, "jwks_url": mixed_jwks.url("/jwks.json")}])
    for kid in ("placeholder", "short-x", "bad-rsa"):
        response = client.get("/cds-services", headers=bearer(mint(es384_key(kid))))
        assert response.status_code == 401 and response.content == b""


@pytest.fixture(scope="module")
def hostile() -> Any:
    with HostileFhirServer() as server:
        yield server


@pytest.mark.parametrize(
    ("deadline", "fetch_timeout"), [(0.8, 30.0), (30.0, 0.8)], ids=["call deadline", "fetch timeout"]
)
def test_a_jwks_trickled_byte_by_byte_is_abandoned_at_a_total_time(
    make_client: Callable[..., TestClient],
    issuer_entry: dict,
    es_key: SigningKey,
    hostile: HostileFhirServer,
    deadline: float,
    fetch_timeout: float,
) -> None:
    """The trickling server sends a byte every 50 ms: no single read ever times out."""
    client = make_client(
        issuers=[{**issuer_entry, "jwks": None, "jwks_url": hostile.url("trickle") + "/jwks.json"}],
        fhir_deadline_seconds=deadline,
        jwks_fetch_timeout_seconds=fetch_timeout,
    )
    started = time.monotonic()
    response = client.get("/cds-services", headers=bearer(mint(es_key)))
    elapsed = time.monotonic() - started
    assert response.status_code == 401
    assert elapsed < 3.0, f"held for {elapsed:.1f} s"  # the server would hold it for 8 s


# ------------------------------------------------------------------ keys expire during an outage


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cached_keys_expire_once_the_jwks_has_been_unreadable_for_the_maximum_stale_age(es_key: SigningKey) -> None:
    clock = Clock()

    async def scenario(server: JsonServer) -> list[bool]:
        async with httpx.AsyncClient(timeout=2.0) as http:
            cache = JwksCache(
                http,
                cache_seconds=60,
                min_refresh_seconds=0,
                max_stale_seconds=600,
                fetch_timeout_seconds=2.0,
                max_bytes=65536,
                clock=clock,
            )
            url = server.url("/jwks.json")

            async def usable() -> bool:
                return await cache.key(url, es_key.kid, issuer=ISSUER, deadline=Deadline.after(2.0)) is not None

            seen = [await usable()]  # read while the issuer is up
            del server.documents["/jwks.json"]  # the issuer's key endpoint goes down (404)
            clock.now += 300  # cache expired, re-read fails: stale keys still used
            seen.append(await usable())
            clock.now += 301  # 601 s since the last good read
            seen.append(await usable())
            server.documents["/jwks.json"] = jwks(es_key)  # back up: the key is trusted again
            seen.append(await usable())
            return seen

    with json_server({"/jwks.json": jwks(es_key)}) as server:
        assert asyncio.run(scenario(server)) == [True, True, False, True]
        assert server.hits["/jwks.json"] == 4


def test_a_failed_re_read_never_drops_keys_read_within_the_stale_age(es_key: SigningKey) -> None:
    """The control for the test above: the same outage, shorter than the stale age."""
    clock = Clock()

    async def scenario(server: JsonServer) -> list[bool]:
        async with httpx.AsyncClient(timeout=2.0) as http:
            cache = JwksCache(
                http,
                cache_seconds=60,
                min_refresh_seconds=0,
                max_stale_seconds=600,
                fetch_timeout_seconds=2.0,
                max_bytes=65536,
                clock=clock,
            )
            url = server.url("/jwks.json")
            results = [await cache.key(url, es_key.kid, issuer=ISSUER, deadline=Deadline.after(2.0)) is not None]
            del server.documents["/jwks.json"]
            for _ in range(5):
                clock.now += 100
                results.append(
                    await cache.key(url, es_key.kid, issuer=ISSUER, deadline=Deadline.after(2.0)) is not None
                )
            return results

    with json_server({"/jwks.json": jwks(es_key)}) as server:
        assert asyncio.run(scenario(server)) == [True] * 6


def test_a_warning_names_the_issuer_and_kid_of_every_skipped_fetched_key(
    es_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    async def fetch(url: str) -> None:
        async with httpx.AsyncClient(timeout=2.0) as http:
            cache = JwksCache(
                http,
                cache_seconds=60,
                min_refresh_seconds=0,
                max_stale_seconds=600,
                fetch_timeout_seconds=2.0,
                max_bytes=65536,
            )
            assert await cache.key(url, es_key.kid, issuer=ISSUER, deadline=Deadline.after(2.0)) is not None

    with (
        json_server({"/jwks.json": {"keys": [PLACEHOLDER_KEY, es_key.public_jwk]}}) as server,
        caplog.at_level(logging.WARNING, logger="ldn_cds.security"),
    ):
        asyncio.run(fetch(server.url("/jwks.json")))
    messages = [r.getMessage() for r in caplog.records]
    assert any(re.search(r"https://ehr\.test/cds-client.*'2024-1'", m) for m in messages), messages
    assert json.dumps(messages).count("skipped") == 1


# ------------------------------------------------------------------ one deadline for JWKS and FHIR


def test_the_call_deadline_covers_the_jwks_read_and_the_fhir_reads_together(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey, hostile: HostileFhirServer
) -> None:
    """The JWKS answers after 1.5 s, the FHIR server never: with a 2 s deadline for the call the
    answer comes near 2 s, not after 1.5 s + another 2 s of FHIR reading."""

    async def slow_jwks(request: Any) -> JSONResponse:
        await asyncio.sleep(1.5)
        return JSONResponse(jwks(es_key))

    with asgi_server(Starlette(routes=[Route("/jwks.json", slow_jwks)])) as keys_url:
        client = make_client(
            issuers=[
                {
                    **issuer_entry,
                    "jwks": None,
                    "jwks_url": keys_url + "/jwks.json",
                    "fhir_servers": [hostile.url("slow")],
                }
            ],
            fhir_deadline_seconds=2.0,
            jwks_fetch_timeout_seconds=5.0,
        )
        path = "/cds-services/ldn-order-select"
        body = base_request(with_prefetch=False, fhir_server=hostile.url("slow"), access_token="t")
        started = time.monotonic()
        response = client.post(path, json=body, headers=bearer(mint(es_key, path)))
        elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert any(c["summary"].startswith(UNCHECKED_PREFIX) for c in response.json()["cards"])
    assert elapsed < 3.0, f"{elapsed:.1f} s: the FHIR reads got a deadline of their own after the JWKS read"
