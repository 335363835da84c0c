"""Token lifetime is exp - iat (per issuer, default 900 s, plus the 60 s leeway), and the time
claims must be JSON numbers (issue 11). Real signed tokens against the production app."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.support.security import BASE_URL, SigningKey, bearer, claims, mint

LEEWAY = 60


def status(client: TestClient, token: str) -> int:
    response = client.get("/cds-services", headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert response.content == b""
    return response.status_code


def test_a_token_issued_a_day_ago_that_is_still_unexpired_is_refused(
    secure_client: TestClient, es_key: SigningKey
) -> None:
    """exp - now is one hour here, well inside any limit; exp - iat is 24 hours."""
    now = int(time.time())
    assert status(secure_client, mint(es_key, iat=now - 23 * 3600, exp=now + 3600)) == 401


@pytest.mark.parametrize(
    ("lifetime", "expected"), [(300, 200), (900, 200), (900 + LEEWAY, 200), (900 + LEEWAY + 1, 401), (3600, 401)]
)
def test_the_default_limit_is_900_seconds_plus_the_leeway(
    secure_client: TestClient, es_key: SigningKey, lifetime: int, expected: int
) -> None:
    now = int(time.time())
    assert status(secure_client, mint(es_key, iat=now, exp=now + lifetime)) == expected


def test_an_issuer_entry_may_set_a_shorter_limit(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey
) -> None:
    client = make_client(issuers=[{**issuer_entry, "max_token_lifetime_seconds": 300}])
    now = int(time.time())
    assert status(client, mint(es_key, iat=now, exp=now + 300 + LEEWAY)) == 200
    assert status(client, mint(es_key, iat=now, exp=now + 300 + LEEWAY + 1)) == 401


def test_the_deployment_wide_limit_is_a_setting(make_client: Callable[..., TestClient], es_key: SigningKey) -> None:
    client = make_client(jwt_max_lifetime_seconds=3600)
    now = int(time.time())
    assert status(client, mint(es_key, iat=now, exp=now + 3600)) == 200


def signed(key: SigningKey, payload: bytes) -> str:
    """A token over raw payload bytes: how a client would send a claim PyJWT would not encode."""
    return jwt.PyJWS().encode(payload, key.private_key, algorithm=key.alg, headers={"typ": "JWT", "kid": key.kid})


def payload_with(**raw: str) -> bytes:
    """Valid claims with some replaced by raw JSON text (e.g. ``exp='"1700000000"'``)."""
    base = claims(BASE_URL + "/cds-services")
    text = json.dumps({k: v for k, v in base.items() if k not in raw})
    extra = ", ".join(f'"{name}": {value}' for name, value in raw.items())
    return (text[:-1] + ", " + extra + "}").encode()


@pytest.mark.parametrize(
    "raw",
    [
        {"exp": f'"{int(time.time()) + 300}"'},  # a numeric string: PyJWT would read it as a number
        {"iat": f'"{int(time.time())}"'},
        {"nbf": f'"{int(time.time()) - 10}"'},
        {"exp": "true"},
        {"exp": "Infinity"},  # not JSON, but Python's parser (and so PyJWT's) accepts it
        {"iat": "NaN"},
        {"exp": "1e400"},
        {"exp": f"[{int(time.time()) + 300}]"},
    ],
    ids=["exp-string", "iat-string", "nbf-string", "exp-true", "exp-infinity", "iat-nan", "exp-overflow", "exp-list"],
)
def test_time_claims_that_are_not_json_numbers_are_refused(
    secure_client: TestClient, es_key: SigningKey, raw: dict
) -> None:
    assert status(secure_client, signed(es_key, payload_with(**raw))) == 401


def test_the_control_a_float_exp_is_a_json_number_and_accepted(secure_client: TestClient, es_key: SigningKey) -> None:
    now = time.time()
    assert status(secure_client, signed(es_key, payload_with(iat=f"{now:.3f}", exp=f"{now + 300:.3f}"))) == 200
