"""Client JWTs per CDS Hooks 2.0, against a production-mode app (real keys, real JWKS over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest
from fastapi.testclient import TestClient

from devtools.fixtures import hook_request, scenario
from tests.support.security import (
    BASE_URL,
    ISSUER,
    JsonServer,
    SigningKey,
    bearer,
    claims,
    es384_key,
    forge,
    jwks,
    mint,
)

SERVICE = "/cds-services/ldn-order-select"


def service_body() -> dict:
    return hook_request(scenario("oxycodone-active-ldn-select"))


def assert_bare_401(response) -> None:
    assert response.status_code == 401
    assert response.content == b""  # no detail, whichever check failed
    assert response.headers["www-authenticate"] == "Bearer"


# ------------------------------------------------------------------ accepted tokens


def test_an_es384_token_whose_key_is_fetched_from_the_issuers_jwks_url_is_accepted(
    secure_client: TestClient, es_key: SigningKey, jwks_http: JsonServer
) -> None:
    response = secure_client.get("/cds-services", headers=bearer(mint(es_key)))
    assert response.status_code == 200
    assert response.json()["services"]
    assert jwks_http.hits["/jwks.json"] == 1


def test_an_rs384_token_verified_with_the_inline_jwks_calls_a_service(
    secure_client: TestClient, rs_key: SigningKey, jwks_http: JsonServer
) -> None:
    response = secure_client.post(SERVICE, json=service_body(), headers=bearer(mint(rs_key, SERVICE)))
    assert response.status_code == 200
    assert "critical" in [card["indicator"] for card in response.json()["cards"]]
    assert not jwks_http.hits  # inline key: nothing fetched


def test_the_jwks_is_cached_between_requests(
    secure_client: TestClient, es_key: SigningKey, jwks_http: JsonServer
) -> None:
    for _ in range(3):
        assert secure_client.get("/cds-services", headers=bearer(mint(es_key))).status_code == 200
    assert jwks_http.hits["/jwks.json"] == 1


def test_aud_may_be_a_list_that_contains_the_endpoint(secure_client: TestClient, es_key: SigningKey) -> None:
    token = mint(es_key, aud=["https://other.example/cds-services", BASE_URL + "/cds-services"])
    assert secure_client.get("/cds-services", headers=bearer(token)).status_code == 200


def test_nbf_in_the_past_and_extra_claims_such_as_sub_are_accepted(
    secure_client: TestClient, es_key: SigningKey
) -> None:
    token = mint(es_key, nbf=int(time.time()) - 300, sub="epic-client-id", tenant="t-1")
    assert secure_client.get("/cds-services", headers=bearer(token)).status_code == 200


def test_clock_skew_within_the_leeway_is_tolerated(secure_client: TestClient, es_key: SigningKey) -> None:
    now = int(time.time())
    token = mint(es_key, iat=now + 20, exp=now - 30)  # iat a little ahead, exp just passed (leeway 60 s)
    assert secure_client.get("/cds-services", headers=bearer(token)).status_code == 200


# ------------------------------------------------------------------ refused tokens


def test_production_refuses_a_request_without_a_jwt(secure_client: TestClient) -> None:
    assert_bare_401(secure_client.get("/cds-services"))
    assert_bare_401(secure_client.post(SERVICE, json=service_body()))
    assert_bare_401(secure_client.post(SERVICE + "/feedback", json={"feedback": []}))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc", ""])
def test_an_authorization_header_that_is_not_one_bearer_token_is_refused(
    secure_client: TestClient, header: str
) -> None:
    assert_bare_401(secure_client.get("/cds-services", headers={"Authorization": header}))


@pytest.mark.parametrize("alg", ["none", "None", "", ["ES384"], {"alg": "ES384"}, None])
def test_alg_none_or_malformed_is_refused(secure_client: TestClient, es_key: SigningKey, alg: object) -> None:
    token = forge({"alg": alg, "typ": "JWT", "kid": es_key.kid}, claims(BASE_URL + "/cds-services"))
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))


@pytest.mark.parametrize("key_name", ["es_key", "rs_key"])
def test_hs256_signed_with_the_issuers_public_key_is_refused(
    secure_client: TestClient, key_name: str, request: pytest.FixtureRequest
) -> None:
    """The classic key-confusion attack: HMAC keyed with the (public) verification key."""
    key: SigningKey = request.getfixturevalue(key_name)
    for alg in ("HS256", "HS384"):
        token = forge({"alg": alg, "typ": "JWT", "kid": key.kid}, claims(BASE_URL + "/cds-services"), key.public_pem)
        assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))


def test_a_token_signed_by_an_unknown_key_is_refused(secure_client: TestClient, stranger_key: SigningKey) -> None:
    # Same kid as the issuer's real key, but not its key: the signature does not verify.
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(mint(stranger_key))))


def test_an_unknown_kid_refreshes_the_jwks_at_a_bounded_rate(secure_client: TestClient, jwks_http: JsonServer) -> None:
    intruder = es384_key("kid-nobody-published")
    for _ in range(5):
        assert_bare_401(secure_client.get("/cds-services", headers=bearer(mint(intruder))))
    assert jwks_http.hits["/jwks.json"] == 1  # one fetch, then the refresh interval holds


def test_a_rotated_key_is_picked_up_once_the_refresh_interval_allows(
    make_client: Callable[..., TestClient], es_key: SigningKey, jwks_http: JsonServer
) -> None:
    client = make_client(jwks_min_refresh_seconds=0)
    assert client.get("/cds-services", headers=bearer(mint(es_key))).status_code == 200
    rotated = es384_key("es384-next")
    jwks_http.documents["/jwks.json"] = jwks(es_key, rotated)
    assert client.get("/cds-services", headers=bearer(mint(rotated))).status_code == 200
    assert jwks_http.hits["/jwks.json"] == 2


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, id="expired"),
        pytest.param({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3900}, id="issued-in-the-future"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not-yet-valid"),
        pytest.param({"exp": int(time.time()) + 24 * 3600}, id="lifetime-too-long"),
        pytest.param({"iss": "https://unknown.example"}, id="unknown-iss"),
        pytest.param({"aud": BASE_URL + "/cds-services/ldn-order-select"}, id="aud-of-another-endpoint"),
        pytest.param({"aud": "http://cds.test/cds-services"}, id="aud-other-scheme"),
        pytest.param({"jti": ""}, id="empty-jti"),
        pytest.param({"jti": 42}, id="jti-not-a-string"),
        pytest.param({"tenant": ["org-a"]}, id="tenant-not-a-string"),
    ],
)
def test_bad_claims_are_refused(secure_client: TestClient, es_key: SigningKey, overrides: dict) -> None:
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(mint(es_key, **overrides))))


def test_an_iss_that_is_not_a_string_is_refused_not_a_500(secure_client: TestClient, es_key: SigningKey) -> None:
    import json

    payload = json.dumps(claims(BASE_URL + "/cds-services", iss=[ISSUER])).encode()  # PyJWT would refuse to encode it
    token = jwt.PyJWS().encode(
        payload, es_key.private_key, algorithm="ES384", headers={"typ": "JWT", "kid": es_key.kid}
    )
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti", "aud", "iss"])
def test_a_missing_required_claim_is_refused(secure_client: TestClient, es_key: SigningKey, claim: str) -> None:
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(mint(es_key, drop=(claim,)))))


@pytest.mark.parametrize(
    "header",
    [{"typ": None}, {"typ": "at+jwt"}, {"kid": None}, {"jku": 12}],
    ids=["no-typ", "wrong-typ", "no-kid", "jku-not-a-string"],
)
def test_header_shape_is_checked(secure_client: TestClient, es_key: SigningKey, header: dict) -> None:
    token = mint(es_key, header=header)
    sent = jwt.get_unverified_header(token)
    for name, value in header.items():
        assert sent.get(name) == value  # the token really has the defect under test
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))


def test_es256_is_not_accepted_even_with_a_valid_signature(
    make_client: Callable[..., TestClient], issuer_entry: dict
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(BASE_URL + "/cds-services"), private, algorithm="ES256", headers={"kid": "p256"})
    client = make_client()
    assert_bare_401(client.get("/cds-services", headers=bearer(token)))


def test_a_service_token_is_refused_at_discovery_and_at_feedback(secure_client: TestClient, es_key: SigningKey) -> None:
    token = mint(es_key, SERVICE)
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))
    assert_bare_401(secure_client.post(SERVICE + "/feedback", json={"feedback": []}, headers=bearer(token)))


def test_the_401_comes_before_the_body_is_looked_at(secure_client: TestClient) -> None:
    response = secure_client.post(SERVICE, content=b"not json", headers={"Authorization": "Bearer x.y.z"})
    assert_bare_401(response)
    assert_bare_401(secure_client.post("/cds-services/no-such-service", content=b"{}"))


# ------------------------------------------------------------------ replay


def test_a_jti_is_accepted_once(secure_client: TestClient, es_key: SigningKey) -> None:
    token = mint(es_key)
    assert secure_client.get("/cds-services", headers=bearer(token)).status_code == 200
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))


def test_a_replayed_jti_is_refused_by_another_worker_sharing_the_database(
    make_client: Callable[..., TestClient], es_key: SigningKey
) -> None:
    first, second = make_client(), make_client()  # two app instances, one SQLite file
    token = mint(es_key)
    assert first.get("/cds-services", headers=bearer(token)).status_code == 200
    assert_bare_401(second.get("/cds-services", headers=bearer(token)))


def test_a_forged_token_does_not_burn_the_jti_of_a_real_one(
    secure_client: TestClient, es_key: SigningKey, stranger_key: SigningKey
) -> None:
    forged = mint(stranger_key, jti="shared-jti")
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(forged)))
    real = mint(es_key, jti="shared-jti")
    assert secure_client.get("/cds-services", headers=bearer(real)).status_code == 200


# ------------------------------------------------------------------ jku


def test_an_unlisted_jku_is_never_fetched(
    secure_client: TestClient, stranger_key: SigningKey, jwks_http: JsonServer
) -> None:
    attacker_jku = jwks_http.url("/attacker/jwks.json")  # serves the key that signed the token
    token = mint(stranger_key, header={"jku": attacker_jku})
    assert_bare_401(secure_client.get("/cds-services", headers=bearer(token)))
    assert jwks_http.hits["/attacker/jwks.json"] == 0
    assert jwks_http.hits["/jwks.json"] == 0


def test_a_jku_listed_for_the_issuer_is_used(
    make_client: Callable[..., TestClient], issuer_entry: dict, jwks_http: JsonServer
) -> None:
    second = es384_key("es384-second-set")
    jwks_http.documents["/keys/second.json"] = jwks(second)
    client = make_client(issuers=[{**issuer_entry, "jku_urls": [jwks_http.url("/keys/second.json")]}])
    token = mint(second, header={"jku": jwks_http.url("/keys/second.json")})
    assert client.get("/cds-services", headers=bearer(token)).status_code == 200
    assert jwks_http.hits["/keys/second.json"] == 1


def test_a_jku_listed_for_another_issuer_is_not_honoured(
    make_client: Callable[..., TestClient], issuer_entry: dict, jwks_http: JsonServer, stranger_key: SigningKey
) -> None:
    other = {"iss": "https://other.example", "jwks_url": jwks_http.url("/attacker/jwks.json"), "fhir_servers": []}
    client = make_client(issuers=[issuer_entry, other])
    token = mint(stranger_key, header={"jku": jwks_http.url("/attacker/jwks.json")})  # iss is ISSUER
    assert_bare_401(client.get("/cds-services", headers=bearer(token)))
    assert jwks_http.hits["/attacker/jwks.json"] == 0


def test_an_unreachable_jwks_url_gives_401_not_500(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey
) -> None:
    from tests.support.servers import free_port

    entry = {**issuer_entry, "jwks_url": f"http://127.0.0.1:{free_port()}/jwks.json"}
    client = make_client(issuers=[entry])
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(es_key))))


# ------------------------------------------------------------------ tenants


def test_an_issuer_with_tenants_requires_a_listed_tenant(
    make_client: Callable[..., TestClient], issuer_entry: dict, es_key: SigningKey
) -> None:
    client = make_client(issuers=[{**issuer_entry, "tenants": ["org-a"]}])
    assert client.get("/cds-services", headers=bearer(mint(es_key, tenant="org-a"))).status_code == 200
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(es_key, tenant="org-b"))))
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(es_key))))


# ------------------------------------------------------------------ CORS and reasons


def test_a_cors_preflight_is_answered_before_authentication(make_client: Callable[..., TestClient]) -> None:
    client = make_client(cors_origins=["https://sandbox.cds-hooks.org"])
    response = client.options(
        SERVICE,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_production_allows_no_browser_origin_unless_configured(secure_client: TestClient) -> None:
    response = secure_client.options(
        "/cds-services",
        headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_refusals_are_counted_without_a_reason_that_would_reveal_trusted_issuers_or_kids(
    secure_client: TestClient, es_key: SigningKey
) -> None:
    """/metrics is public: a reason label ("unknown-iss" vs "unknown-kid") would let anyone
    probe which issuers and key ids are trusted, although the 401 itself is bare."""
    secure_client.get("/cds-services", headers=bearer(mint(es_key, iss="https://unknown.example")))  # unknown iss
    secure_client.get("/cds-services", headers=bearer(mint(es384_key("kid-nobody-has"))))  # trusted iss, unknown kid
    metrics = secure_client.get(f"http://testserver:{secure_client.app.state.settings.admin_port}/metrics").text
    (line,) = [line for line in metrics.splitlines() if line.startswith("ldn_cds_auth_failures_total")]
    assert line == "ldn_cds_auth_failures_total 2.0"
    assert "reason=" not in metrics and ISSUER not in metrics and "kid-nobody-has" not in metrics


def test_production_accepts_only_the_configured_public_url_as_aud(
    make_client: Callable[..., TestClient], es_key: SigningKey
) -> None:
    client = make_client(public_base_url="http://localhost:8000")
    assert (
        client.get("/cds-services", headers=bearer(mint(es_key, aud="http://localhost:8000/cds-services"))).status_code
        == 200
    )
    assert_bare_401(client.get("/cds-services", headers=bearer(mint(es_key, aud="http://127.0.0.1:8000/cds-services"))))
