"""Public keys from a JWK Set, restricted to what CDS Hooks 2.0 lets a client sign with.

Only ES384 (EC P-384) and RS384 (RSA >= 2048 bits) are accepted: the spec forbids
``none`` and symmetric algorithms, and recommends these two. Each key is bound to one
algorithm here, so a token cannot make us verify an RSA key as HMAC or an EC key with
another curve's hash (PyJWT refuses a token whose ``alg`` differs from the key's).

A key that cannot be used (malformed, another algorithm, a private key) is skipped with
its reason, never raised: one bad key an issuer publishes must not break the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWTError

ALLOWED_ALGORITHMS = frozenset({"ES384", "RS384"})
_MIN_RSA_BITS = 2048
_MAX_KID_CHARS = 256  # longer kids are junk; they would only bloat logs and the cache


class UnusableKey(ValueError):
    """A JWK (or JWK Set) we will not use, with the reason."""


@dataclass(frozen=True, slots=True)
class SkippedKey:
    """A key of a JWK Set that was not taken, and why (for a warning naming issuer and kid)."""

    kid: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class KeySet:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    skipped: tuple[SkippedKey, ...] = ()


def _algorithm_for(jwk: Mapping[str, Any]) -> str:
    declared = jwk.get("alg")
    if declared is not None:
        if not isinstance(declared, str) or declared not in ALLOWED_ALGORITHMS:
            raise UnusableKey(f"alg {declared!r} is not ES384 or RS384")
        return declared
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC" and crv == "P-384":
        return "ES384"
    if kty == "RSA":
        return "RS384"
    raise UnusableKey(f"kty {kty!r} crv {crv!r} is not usable with ES384 or RS384")


def key_id(jwk: Any) -> str | None:
    """The key's ``kid`` if it is one we could name in a message."""
    kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
    return kid if isinstance(kid, str) and 0 < len(kid) <= _MAX_KID_CHARS else None


def public_key(jwk: Any) -> tuple[str, PyJWK]:
    """(kid, key bound to its one algorithm) or :class:`UnusableKey` saying why not."""
    if not isinstance(jwk, Mapping):
        raise UnusableKey("a key must be a JSON object")
    kid = key_id(jwk)
    if kid is None:
        raise UnusableKey(f"a key needs a non-empty 'kid' of at most {_MAX_KID_CHARS} characters")
    if jwk.get("use") not in (None, "sig"):
        raise UnusableKey(f"key {kid!r}: use {jwk.get('use')!r} is not 'sig'")
    if "d" in jwk:
        raise UnusableKey(f"key {kid!r} is a private key; publish only the public half")
    algorithm = _algorithm_for(jwk)
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if algorithm == "ES384" and (kty != "EC" or crv != "P-384"):
        raise UnusableKey(f"key {kid!r}: ES384 needs an EC P-384 key")
    if algorithm == "RS384" and kty != "RSA":
        raise UnusableKey(f"key {kid!r}: RS384 needs an RSA key")
    try:
        key = PyJWK(dict(jwk), algorithm=algorithm)
    except (PyJWTError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        # Malformed key material (bad base64, coordinates off the curve, wrong types):
        # PyJWT raises InvalidKeyError, cryptography ValueError or TypeError.
        raise UnusableKey(f"key {kid!r}: {type(exc).__name__}: {exc}") from exc
    if isinstance(key.key, RSAPublicKey) and key.key.key_size < _MIN_RSA_BITS:
        raise UnusableKey(f"key {kid!r}: RSA keys must have at least {_MIN_RSA_BITS} bits")
    return kid, key


def read_jwks(jwks: Any) -> KeySet:
    """The usable keys of a JWK Set by kid, and every other key with the reason it was skipped.

    Raises :class:`UnusableKey` only when ``jwks`` is not a JWK Set at all. A kid seen
    twice keeps its first key: which one the issuer meant cannot be told.
    """
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise UnusableKey("a JWK Set must be an object with a 'keys' list")
    keys: dict[str, PyJWK] = {}
    skipped: list[SkippedKey] = []
    for jwk in jwks["keys"]:
        try:
            kid, key = public_key(jwk)
        except UnusableKey as exc:
            skipped.append(SkippedKey(key_id(jwk), " ".join(str(exc).split())))  # one line
            continue
        if kid in keys:
            skipped.append(SkippedKey(kid, f"kid {kid!r} appears twice; the first key is used"))
            continue
        keys[kid] = key
    return KeySet(keys, tuple(skipped))
