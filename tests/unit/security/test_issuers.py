"""The trusted-issuers file: the documented format loads; every mistake stops start-up clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main as cli_main
from app.main import create_app
from app.security.issuers import (
    SANDBOX_ISSUER,
    IssuersFileError,
    SecurityConfigError,
    build_registry,
    load_issuers_file,
)
from app.settings import Settings
from tests.support.security import es384_key, jwks, production_settings, rs384_key, write_issuers

KEY = es384_key("k1")


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "https://ehr.example",
        "jwks": jwks(KEY),
        "fhir_servers": ["https://ehr.example/fhir"],
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_the_documented_format_loads(tmp_path: Path) -> None:
    rsa = rs384_key("r1")
    path = write_issuers(
        tmp_path,
        [
            {
                "iss": "https://ehr.example",
                "jwks_url": "https://ehr.example/.well-known/jwks.json",
                "jwks": jwks(KEY, rsa),
                "jku_urls": ["https://keys.ehr.example/jwks.json"],
                "fhir_servers": ["https://EHR.example:443/fhir/", "http://127.0.0.1:8081/fhir"],
                "tenants": ["org-1"],
            },
            {"iss": "https://other.example", "jwks_url": "https://other.example/jwks", "fhir_servers": []},
        ],
    )
    first, second = load_issuers_file(path)
    assert set(first.inline_keys) == {"k1", "r1"}
    assert first.allows_jku("https://ehr.example/.well-known/jwks.json")  # jwks_url counts as listed
    assert first.allows_jku("https://keys.ehr.example/jwks.json")
    assert not first.allows_jku("https://evil.example/jwks.json")
    assert first.allows_fhir_server("https://ehr.example/fhir")  # normalised: case, :443, trailing slash
    assert first.allows_fhir_server("http://127.0.0.1:8081/fhir/")  # listed http loopback is trusted as written
    assert not first.allows_fhir_server("https://ehr.example/fhir/other")
    assert not first.allows_fhir_server("http://ehr.example/fhir")
    assert first.tenants == {"org-1"}
    assert second.tenants is None and not second.fhir_servers


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"iss": "x"}', "must be a JSON list"),
        (["just a string"], "entry 0 must be a JSON object"),
        ([entry(iss=None)], "'iss' is required"),
        ([entry(iss="")], "'iss' is required"),
        ([entry(), entry()], "listed twice"),
        ([entry(fhir_servers=None)], "'fhir_servers' is required"),
        ([entry(fhir_servers="https://ehr.example/fhir")], "'fhir_servers' must be a list"),
        ([entry(fhir_servers=["ftp://ehr.example"])], "'fhir_servers'[0] must be an http(s) URL"),
        ([entry(fhir_servers=["https://ehr.example/fhir?tenant=1"])], "'fhir_servers'[0] has a query"),
        ([entry(fhir_servers=["https://ehr.example/fhir#@evil"])], "'fhir_servers'[0] has a fragment"),
        ([entry(jwks_url="not a url")], "'jwks_url' must be an http(s) URL"),
        ([entry(jku_urls=["javascript:alert(1)"])], "'jku_urls'[0]"),
        ([entry(jwks=None)], "give its keys with 'jwks', 'jwks_url' or 'jku_urls'"),
        ([entry(jwks={"keys": []})], "'jwks' has no usable key"),
        ([entry(jwks=[1, 2])], "must be an object with a 'keys' list"),
        ([entry(jwks={"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]})], "not usable with ES384 or RS384"),
        ([entry(jwks={"keys": [{**KEY.public_jwk, "alg": "ES256"}]})], "not ES384 or RS384"),
        ([entry(jwks={"keys": [{**KEY.public_jwk, "kid": None}]})], "needs a non-empty 'kid'"),
        ([entry(jwks={"keys": [{**KEY.public_jwk, "d": "secret"}]})], "private key"),
        ([entry(tenants="org-1")], "'tenants' must be a list"),
        ([entry(fhir_server=["https://ehr.example/fhir"])], "unknown field(s) ['fhir_server']"),
    ],
)
def test_a_broken_file_is_refused_with_a_message_that_names_the_problem(
    tmp_path: Path, content: Any, message: str
) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(IssuersFileError) as raised:
        load_issuers_file(path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IssuersFileError, match="cannot read it"):
        load_issuers_file(tmp_path / "absent.json")


def test_the_app_does_not_start_with_a_broken_file(tmp_path: Path) -> None:
    path = write_issuers(tmp_path, [entry(fhir_servers=None)])
    with pytest.raises(IssuersFileError):
        create_app(production_settings(tmp_path, path))


def test_production_does_not_start_without_an_issuers_file_or_a_public_base_url(tmp_path: Path) -> None:
    with pytest.raises(IssuersFileError, match="CDS_TRUSTED_ISSUERS_FILE"):
        build_registry(Settings(env="production", public_base_url="https://cds.example"))
    path = write_issuers(tmp_path, [entry()])
    with pytest.raises(SecurityConfigError, match="CDS_PUBLIC_BASE_URL"):
        build_registry(Settings(env="production", trusted_issuers_file=path))
    empty = write_issuers(tmp_path, [])
    with pytest.raises(IssuersFileError, match="lists no issuer"):
        build_registry(production_settings(tmp_path, empty))


def test_production_does_not_trust_the_sandbox_but_development_pins_it(tmp_path: Path) -> None:
    path = write_issuers(tmp_path, [entry()])
    assert SANDBOX_ISSUER not in build_registry(production_settings(tmp_path, path))
    development = build_registry(Settings(env="development", trusted_issuers_file=path))
    assert SANDBOX_ISSUER in development and "https://ehr.example" in development
    assert SANDBOX_ISSUER in build_registry(Settings(env="development"))


def test_the_cli_refuses_to_serve_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_issuers(tmp_path, [entry(iss=None)])
    monkeypatch.setenv("CDS_ENV", "production")
    monkeypatch.setenv("CDS_PUBLIC_BASE_URL", "https://cds.example")
    monkeypatch.setenv("CDS_TRUSTED_ISSUERS_FILE", str(path))
    monkeypatch.setenv("CDS_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(SystemExit) as exited:
        cli_main(["serve", "--port", "1"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "refusing to start" in error and "'iss' is required" in error


@pytest.mark.parametrize("value", [0, -5, 1.5, "900", True])
def test_a_max_token_lifetime_that_is_not_a_positive_whole_number_is_refused(tmp_path: Path, value: Any) -> None:
    path = write_issuers(tmp_path, [entry(max_token_lifetime_seconds=value)])
    with pytest.raises(IssuersFileError, match="max_token_lifetime_seconds"):
        load_issuers_file(path)
