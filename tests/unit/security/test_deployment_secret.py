"""The deployment secret: required in production, generated once in development, and the
only key to the stand-in that replaces a patient id in the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.security.deployment_secret import DeploymentSecretError, load_deployment_secret, patient_key
from app.settings import Settings
from tests.support.security import ISSUER, es384_key, jwks, serve_refusal, write_issuers


def refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    issuers = write_issuers(tmp_path, [{"iss": ISSUER, "jwks": jwks(es384_key()), "fhir_servers": []}])
    return serve_refusal(tmp_path, issuers, monkeypatch, capsys)


def test_production_refuses_to_start_without_a_deployment_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CDS_DEPLOYMENT_SECRET", raising=False)
    code, error = refusal(tmp_path, monkeypatch, capsys)
    assert code == 2
    assert error.count("\n") == 1 and "CDS_DEPLOYMENT_SECRET is required in production" in error
    assert not (tmp_path / "ldn-cds-deployment-secret").exists()  # production never generates one


def test_a_short_deployment_secret_is_refused_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CDS_DEPLOYMENT_SECRET", "hunter2")
    code, error = refusal(tmp_path, monkeypatch, capsys)
    assert code == 2 and "at least 32 characters" in error and "hunter2" not in error


def test_development_generates_one_secret_beside_the_database_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(env="development", database_url=f"sqlite:///{tmp_path}/cds.db")
    first = load_deployment_secret(settings)
    path = tmp_path / "ldn-cds-deployment-secret"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert load_deployment_secret(settings) == first  # a restart keeps snoozes meaningful


def test_development_refuses_a_data_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(DeploymentSecretError, match="cannot create the development secret"):
        load_deployment_secret(Settings(env="development", data_dir=tmp_path / "missing"))


def test_the_patient_stand_in_depends_on_secret_issuer_tenant_and_patient() -> None:
    secret = b"s" * 32
    base = patient_key(secret, "https://ehr.a", "t1", "patient-1")
    assert base == patient_key(secret, "https://ehr.a", "t1", "patient-1")
    others = {
        patient_key(b"t" * 32, "https://ehr.a", "t1", "patient-1"),
        patient_key(secret, "https://ehr.b", "t1", "patient-1"),
        patient_key(secret, "https://ehr.a", "t2", "patient-1"),
        patient_key(secret, "https://ehr.a", "t1", "patient-2"),
    }
    assert base not in others and len(others) == 4
    assert "patient-1" not in base
