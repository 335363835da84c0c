"""The trusted-issuers file (``CDS_TRUSTED_ISSUERS_FILE``): who may call us, and with what.

Format (deployments and tests rely on it), a JSON list of objects::

    [
      {
        "iss": "https://ehr.example/cds-client",          required, the JWT "iss"
        "jwks_url": "https://ehr.example/jwks.json",     optional, where its keys are
        "jwks": {"keys": [ ... ]},                        optional, inline public keys
        "jku_urls": ["https://ehr.example/keys2.json"],   optional, other JWKS URLs a
                                                          token's "jku" may name
        "fhir_servers": ["https://ehr.example/fhir"],     required (may be empty): the
                                                          fhirServer values this issuer
                                                          may send; only these get read
        "tenants": ["org-1"],                             optional: if given, the JWT
                                                          "tenant" must be one of these
        "max_token_lifetime_seconds": 300                 optional: longest exp - iat this
                                                          issuer's tokens may have
      }
    ]

At least one of ``jwks``, ``jwks_url`` or ``jku_urls`` is needed. ``jwks_url`` counts as
listed for ``jku``. A token's ``jku`` is honoured only if it is listed; an unlisted
``jku`` is never fetched. URLs are trusted as written (an operator may list an http
loopback FHIR server for a test).

The file is read once, at start-up; any mistake stops the service with a message that
names the entry and the field, rather than failing a clinician's request later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jwt import PyJWK

from app.security.keys import KeySet, SkippedKey, UnusableKey, key_id, read_jwks
from app.security.urls import fhir_base_problem, normalize_url
from app.settings import Environment, Settings

SANDBOX_ISSUER = "https://sandbox.cds-hooks.org"
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"

log = logging.getLogger("ldn_cds.security")

_FIELDS = frozenset({"iss", "jwks_url", "jwks", "jku_urls", "fhir_servers", "tenants", "max_token_lifetime_seconds"})


class SecurityConfigError(ValueError):
    """Who-may-call-us configuration is unusable; the service must not start."""


class IssuersFileError(SecurityConfigError):
    """The trusted-issuers file is unusable; the service must not start."""


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    iss: str
    fhir_servers: frozenset[str]  # normalised base URLs
    jwks_url: str | None = None
    inline_keys: Mapping[str, PyJWK] = field(default_factory=dict)
    jku_urls: frozenset[str] = frozenset()  # exact strings a token's jku may carry (jwks_url included)
    tenants: frozenset[str] | None = None
    skipped_inline_keys: tuple[SkippedKey, ...] = ()  # unusable keys of the file's "jwks", to warn about
    max_token_lifetime_seconds: int | None = None  # longest exp - iat accepted; None: CDS_JWT_MAX_LIFETIME_SECONDS

    def allows_jku(self, jku: str) -> bool:
        return jku in self.jku_urls

    def allows_fhir_server(self, url: str) -> bool:
        if fhir_base_problem(url) is not None:
            return False
        normalised = normalize_url(url)
        return normalised is not None and normalised in self.fhir_servers


class IssuerRegistry:
    """Trusted issuers by ``iss``; built once at start-up, read on every request."""

    def __init__(self, issuers: Iterable[TrustedIssuer]):
        self._by_iss = {issuer.iss: issuer for issuer in issuers}

    def get(self, iss: object) -> TrustedIssuer | None:
        return self._by_iss.get(iss) if isinstance(iss, str) else None

    def __contains__(self, iss: object) -> bool:
        return self.get(iss) is not None

    def __len__(self) -> int:
        return len(self._by_iss)

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._by_iss)


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or normalize_url(value) is None:
        raise IssuersFileError(f"{where} must be an http(s) URL, got {value!r}")
    return value


def _url_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise IssuersFileError(f"{where} must be a list of http(s) URLs")
    return [_url(item, f"{where}[{i}]") for i, item in enumerate(value)]


def parse_issuer(entry: Any, where: str) -> TrustedIssuer:
    """One entry of the file; ``where`` prefixes every error message."""
    if not isinstance(entry, dict):
        raise IssuersFileError(f"{where} must be a JSON object")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise IssuersFileError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    iss = entry.get("iss")
    if not isinstance(iss, str) or not iss.strip():
        raise IssuersFileError(f"{where}: 'iss' is required and must be a non-empty string")
    where = f"{where} (iss {iss!r})"
    if "fhir_servers" not in entry:
        raise IssuersFileError(f"{where}: 'fhir_servers' is required (use [] for none)")
    fhir_servers = _url_list(entry["fhir_servers"], f"{where}: 'fhir_servers'")
    fhir_bases: set[str] = set()
    for i, server in enumerate(fhir_servers):
        problem = fhir_base_problem(server)
        base = normalize_url(server) if problem is None else None
        if base is None:  # a URL with no problem always normalises
            raise IssuersFileError(
                f"{where}: 'fhir_servers'[{i}] {problem or 'is not a valid URL'}: "
                "a FHIR base URL is scheme, host and path only"
            )
        fhir_bases.add(base)
    jwks_url = _url(entry["jwks_url"], f"{where}: 'jwks_url'") if entry.get("jwks_url") is not None else None
    jku_urls = _url_list(entry.get("jku_urls", []), f"{where}: 'jku_urls'")
    inline = KeySet()
    if entry.get("jwks") is not None:
        inline = _inline_keys(entry["jwks"], f"{where}: 'jwks'")
    if not inline.keys and jwks_url is None and not jku_urls:
        raise IssuersFileError(f"{where}: give its keys with 'jwks', 'jwks_url' or 'jku_urls'")
    tenants = entry.get("tenants")
    if tenants is not None and (not isinstance(tenants, list) or not all(isinstance(t, str) and t for t in tenants)):
        raise IssuersFileError(f"{where}: 'tenants' must be a list of non-empty strings")
    lifetime = entry.get("max_token_lifetime_seconds")
    if lifetime is not None and (not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime <= 0):
        raise IssuersFileError(f"{where}: 'max_token_lifetime_seconds' must be a positive whole number of seconds")
    return TrustedIssuer(
        iss=iss,
        fhir_servers=frozenset(fhir_bases),
        jwks_url=jwks_url,
        inline_keys=inline.keys,
        jku_urls=frozenset(jku_urls) | ({jwks_url} if jwks_url else set()),
        tenants=frozenset(tenants) if tenants is not None else None,
        skipped_inline_keys=inline.skipped,
        max_token_lifetime_seconds=lifetime,
    )


def _inline_keys(jwks: Any, where: str) -> KeySet:
    """The operator's inline keys. Malformed ones are skipped (warned about at start-up);
    a private key, a kid used twice, or no usable key at all stops the service."""
    try:
        found = read_jwks(jwks)
    except UnusableKey as exc:
        raise IssuersFileError(f"{where}: {exc}") from exc
    kids: set[str] = set()
    for jwk in jwks["keys"]:
        kid = key_id(jwk)
        if isinstance(jwk, dict) and "d" in jwk:
            raise IssuersFileError(f"{where}: key {kid!r} is a private key; list only the public half")
        if kid is not None and kid in kids:
            raise IssuersFileError(f"{where}: kid {kid!r} appears twice")
        if kid is not None:
            kids.add(kid)
    if not found.keys:
        reasons = "; ".join(s.reason for s in found.skipped) or "the set is empty"
        raise IssuersFileError(f"{where} has no usable key ({reasons})")
    return found


def load_issuers_file(path: Path) -> list[TrustedIssuer]:
    where = f"trusted issuers file {path} (CDS_TRUSTED_ISSUERS_FILE)"
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise IssuersFileError(f"{where}: cannot read it: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IssuersFileError(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise IssuersFileError(f"{where}: must be a JSON list of issuer objects")
    issuers = [parse_issuer(entry, f"{where}: entry {i}") for i, entry in enumerate(raw)]
    seen: set[str] = set()
    for issuer in issuers:
        if issuer.iss in seen:
            raise IssuersFileError(f"{where}: iss {issuer.iss!r} is listed twice")
        seen.add(issuer.iss)
    return issuers


def sandbox_issuer() -> TrustedIssuer:
    """The public CDS Hooks sandbox, with its key pinned (development only; see README.md here)."""
    text = resources.files("app.security").joinpath("sandbox_jwks.json").read_text(encoding="utf-8")
    return TrustedIssuer(
        iss=SANDBOX_ISSUER,
        fhir_servers=frozenset(),  # development mode accepts any https or loopback server anyway
        inline_keys=read_jwks(json.loads(text)).keys,
        jku_urls=frozenset({SANDBOX_JKU}),
    )


def build_registry(settings: Settings) -> IssuerRegistry:
    """The issuers this deployment trusts, or :class:`SecurityConfigError` saying why it cannot start."""
    issuers = load_issuers_file(settings.trusted_issuers_file) if settings.trusted_issuers_file else []
    if settings.env is Environment.production:
        if "public_base_url" not in settings.model_fields_set:
            raise SecurityConfigError(
                "CDS_ENV=production requires CDS_PUBLIC_BASE_URL, the URL EHRs call this service at "
                "(e.g. https://cds.example.org): every client JWT's aud is checked against it"
            )
        if settings.trusted_issuers_file is None:
            raise IssuersFileError(
                "CDS_ENV=production requires CDS_TRUSTED_ISSUERS_FILE: a JSON list of the "
                "CDS clients (JWT issuers) allowed to call this service"
            )
        if not issuers:
            raise IssuersFileError(
                f"trusted issuers file {settings.trusted_issuers_file} lists no issuer: nobody could call the service"
            )
    elif not any(issuer.iss == SANDBOX_ISSUER for issuer in issuers):
        issuers.append(sandbox_issuer())
    for issuer in issuers:  # only once the whole file is accepted: a refusal stays one line
        for skipped in issuer.skipped_inline_keys:
            log.warning(
                "trusted issuer %r: inline key %r skipped: %s",
                issuer.iss,
                skipped.kid,
                skipped.reason,
                extra={"iss": issuer.iss, "kid": skipped.kid},
            )
    return IssuerRegistry(issuers)
