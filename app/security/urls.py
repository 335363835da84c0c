"""URL comparison for allow-lists (fhirServer, jku) without DNS look-ups.

Allow-lists compare *normalised* URLs so that ``https://EHR.example:443/fhir/`` and
``https://ehr.example/fhir`` are one server, while a different host, port, scheme or
path is a different one. Nothing here resolves names: an allow-list is about what the
operator wrote, and loopback is recognised by name or literal address only.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def normalize_url(url: str) -> str | None:
    """Canonical ``scheme://host[:port]/path`` (no trailing slash), or ``None`` if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{path}{query}"


def is_loopback_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_https_or_loopback_http(url: str) -> bool:
    """What development mode accepts as a fhirServer: any https URL, or http on loopback."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback_host(parts.hostname))
