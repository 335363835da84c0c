"""Validly signed tokens with claims of any JSON shape: always a bare 401 or a 200, never a 500."""

from __future__ import annotations

import json
import time

import jwt
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.security import BASE_URL, ISSUER, SigningKey, bearer

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "jti", "tenant", "sub")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    overrides=st.dictionaries(st.sampled_from(CLAIMS), JSON, max_size=4),
    header=st.dictionaries(st.sampled_from(["typ", "jku", "crit", "x5u"]), JSON, max_size=2),
)
def test_any_claim_shape_is_a_401_or_a_200(
    secure_client: TestClient, es_key: SigningKey, overrides: dict, header: dict
) -> None:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": BASE_URL + "/cds-services",
        "iat": now,
        "exp": now + 60,
        "jti": f"j{time.perf_counter_ns()}",
    }
    payload.update(overrides)
    headers = {"typ": "JWT", **header, "kid": es_key.kid}
    token = jwt.PyJWS().encode(json.dumps(payload).encode(), es_key.private_key, algorithm="ES384", headers=headers)
    response = secure_client.get("/cds-services", headers=bearer(token))
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert response.content == b""
