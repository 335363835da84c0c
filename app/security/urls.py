"""URL rules for allow-lists (fhirServer, jku) and for where the access token may go, without DNS look-ups.

Allow-lists compare *normalised* URLs so that ``https://EHR.example:443/fhir/`` and
``https://ehr.example/fhir`` are one server, while a different host, port, scheme or
path is a different one. Nothing here resolves names: an allow-list is about what the
operator wrote, and loopback is recognised by name or literal address only.

A FHIR base URL must be plain (:func:`fhir_base_problem`), and every URL requested with
its access token must lie under it, path included (:func:`is_under_base`).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# A path a server could read as another path: dot segments (also percent-encoded),
# encoded slashes and backslashes. Never in a URL we build; refused in one we are sent.
_AMBIGUOUS_PATH = re.compile(r"(?i)%2e|%2f|%5c|\\|(^|/)\.{1,2}(/|$)")


def fhir_base_problem(url: str) -> str | None:
    """Why ``url`` cannot be a FHIR base URL (``fhirServer``, ``fhir_servers``), or ``None``.

    A base is where the access token may go, and every URL read with it must stay under
    it; so it must be plain: http(s), a host, a path, nothing else. ``…/fhir#@x`` or
    ``…/fhir?`` would pass a prefix comparison and then resolve to the host's root; a
    trailing space becomes ``/fhir%20/``.
    """
    if any(c.isspace() or not c.isprintable() for c in url):
        return "contains whitespace or control characters"
    if "#" in url:
        return "has a fragment ('#')"
    if "?" in url:
        return "has a query ('?')"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return "must be an http or https URL"
    if "@" in parts.netloc:
        return "has user info ('user@')"
    if not parts.hostname:
        return "has no host"
    if _AMBIGUOUS_PATH.search(parts.path):
        return "has dot segments or encoded separators in its path"
    return None


def is_under_base(url: str, base: str) -> bool:
    """Whether ``url``, as httpx will send it, is ``base`` or below its path, on its origin.

    Checked on every URL requested with the access token (reads, pages, redirects): the
    same host may serve other tenants under other paths, and httpx resolves dot segments
    before sending, so the comparison is made on what goes on the wire.
    """
    try:
        target, root = httpx.URL(url), httpx.URL(base)
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    if target.scheme not in _DEFAULT_PORTS or target.userinfo:
        return False
    if (target.scheme, target.host, target.port or _DEFAULT_PORTS[target.scheme]) != (
        root.scheme,
        root.host,
        root.port or _DEFAULT_PORTS.get(root.scheme),
    ):
        return False
    path = target.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
    if _AMBIGUOUS_PATH.search(path):
        return False
    base_path = root.raw_path.split(b"?", 1)[0].decode("ascii", "replace").rstrip("/")
    return path == base_path or path.startswith(base_path + "/")


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
    if fhir_base_problem(url) is not None:
        return False
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback_host(parts.hostname or ""))
