"""The deployment secret: keys the HMAC that links a card to its patient without naming them.

Card identity needs to know which patient a card was issued for (so that feedback can
snooze a topic for that patient), but the database must never hold a patient identifier.
It holds ``HMAC-SHA256(secret, issuer | tenant | patient id)`` instead: the same for every
call about the same patient from the same EHR, useless without the secret.

Production: ``CDS_DEPLOYMENT_SECRET`` is required (the service refuses to start without
it) and must be the same on every instance. Development: generated once and kept in the
data folder, so snoozes survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from app.security.issuers import SecurityConfigError
from app.settings import Environment, Settings

# 256 bits, as hex: the HMAC key is as strong as the hash.
_GENERATED_BYTES = 32
# A shorter secret is a configuration mistake, not a key.
MIN_SECRET_CHARS = 32
_DEVELOPMENT_FILE = "ldn-cds-deployment-secret"


class DeploymentSecretError(SecurityConfigError):
    """No usable deployment secret: the service must not start."""


def load_deployment_secret(settings: Settings) -> bytes:
    if settings.deployment_secret is not None:
        value = settings.deployment_secret.get_secret_value().strip()
        if len(value) < MIN_SECRET_CHARS:
            raise DeploymentSecretError(f"CDS_DEPLOYMENT_SECRET must be at least {MIN_SECRET_CHARS} characters")
        return value.encode()
    if settings.env is Environment.production:
        raise DeploymentSecretError(
            "CDS_DEPLOYMENT_SECRET is required in production (the same random value, at least "
            f"{MIN_SECRET_CHARS} characters, on every instance; e.g. `openssl rand -hex 32`)"
        )
    return _development_secret(_data_dir(settings) / _DEVELOPMENT_FILE)


def _data_dir(settings: Settings) -> Path:
    if settings.data_dir is not None:
        return settings.data_dir
    prefix = "sqlite:///"
    if settings.database_url.startswith(prefix) and not settings.database_url.endswith(":memory:"):
        return Path(settings.database_url.removeprefix(prefix)).parent
    return Path()


def _development_secret(path: Path) -> bytes:
    try:
        return path.read_text(encoding="ascii").strip().encode()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise DeploymentSecretError(f"cannot read the development secret {path}: {exc.strerror}") from exc
    value = secrets.token_hex(_GENERATED_BYTES)
    try:
        # Created readable by its owner only; O_EXCL: a second worker starting at the same
        # moment reads the first one's secret instead of writing its own.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    except OSError as exc:
        raise DeploymentSecretError(f"cannot create the development secret {path}: {exc.strerror}") from exc
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(value)
    return value.encode()


def patient_key(secret: bytes, issuer: str | None, tenant: str | None, patient_id: str) -> str:
    """The stored stand-in for a patient: per EHR (issuer, tenant), never reversible."""
    message = "\x1f".join((issuer or "", tenant or "", patient_id)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
