"""Public keys from a JWK Set, restricted to what CDS Hooks 2.0 lets a client sign with.

Only ES384 (EC P-384) and RS384 (RSA >= 2048 bits) are accepted: the spec forbids
``none`` and symmetric algorithms, and recommends these two. Each key is bound to one
algorithm here, so a token cannot make us verify an RSA key as HMAC or an EC key with
another curve's hash (PyJWT refuses a token whose ``alg`` differs from the key's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK
from jwt.exceptions import PyJWKError

ALLOWED_ALGORITHMS = frozenset({"ES384", "RS384"})
_MIN_RSA_BITS = 2048


class UnusableKey(ValueError):
    """A JWK we will not use, with the reason (for the issuers-file error message)."""


def _algorithm_for(jwk: Mapping[str, Any]) -> str:
    declared = jwk.get("alg")
    if declared is not None:
        if declared not in ALLOWED_ALGORITHMS:
            raise UnusableKey(f"alg {declared!r} is not ES384 or RS384")
        return str(declared)
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "EC" and crv == "P-384":
        return "ES384"
    if kty == "RSA":
        return "RS384"
    raise UnusableKey(f"kty {kty!r} crv {crv!r} is not usable with ES384 or RS384")


def public_key(jwk: Any) -> tuple[str, PyJWK]:
    """(kid, key bound to its one algorithm) or :class:`UnusableKey` saying why not."""
    if not isinstance(jwk, Mapping):
        raise UnusableKey("a key must be a JSON object")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise UnusableKey("a key needs a non-empty 'kid'")
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
    except (PyJWKError, ValueError, TypeError) as exc:
        raise UnusableKey(f"key {kid!r}: {exc}") from exc
    if isinstance(key.key, RSAPublicKey) and key.key.key_size < _MIN_RSA_BITS:
        raise UnusableKey(f"key {kid!r}: RSA keys must have at least {_MIN_RSA_BITS} bits")
    return kid, key


def usable_keys(jwks: Any, *, strict: bool) -> dict[str, PyJWK]:
    """The keys of a JWK Set by kid.

    ``strict`` (an operator-written inline set): any unusable key is an error. Otherwise
    (a set fetched from an issuer, which may publish keys for other purposes) unusable
    keys are skipped.
    """
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise UnusableKey("a JWK Set must be an object with a 'keys' list")
    keys: dict[str, PyJWK] = {}
    for jwk in jwks["keys"]:
        try:
            kid, key = public_key(jwk)
        except UnusableKey:
            if strict:
                raise
            continue
        if kid in keys and strict:
            raise UnusableKey(f"kid {kid!r} appears twice")
        keys.setdefault(kid, key)
    return keys
