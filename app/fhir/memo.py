"""Reading the same FHIR content once: pure readings memoised by the JSON they read.

A record repeats itself: every refill of a drug carries the same ``medicationCodeableConcept``
and, mostly, the same ``dosageInstruction``; every patient on oxycodone 5 mg has the same
coding. What the service makes of such a piece (which drug it is, how much a day the dosing
uses) depends on that piece alone, so it is read once and the reading reused wherever the
same JSON comes again.

The key is the piece's canonical bytes (``orjson``), so two pieces share a reading only if
they are the same JSON, value for value and type for type (``1`` and ``1.0`` and ``true``
are different keys). Only small pieces are kept (a hostile 5 MiB concept is read, not
stored), and only so many: the oldest reading goes first. Readings are immutable values
(frozen dataclasses, tuples), so sharing them is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import orjson

V = TypeVar("V")

# Larger than any real concept, Medication or dosing; a larger piece is read without being kept.
MAX_KEY_BYTES = 2048


def content_key(*parts: Any) -> bytes | None:
    """The canonical bytes of ``parts``; None when too large, or not JSON at all (a FHIR
    server's integer beyond 64 bits, say): that piece is then simply read every time."""
    try:
        key = orjson.dumps(parts)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    return key if len(key) <= MAX_KEY_BYTES else None


class Memo(Generic[V]):
    """At most ``size`` readings by key (content keys, or tuples of them); the oldest is
    dropped when full. A ``None`` key is read every time and not kept."""

    def __init__(self, size: int):
        self._size = size
        self._values: dict[Hashable, V] = {}

    def get(self, key: Hashable | None, read: Callable[[], V]) -> V:
        if key is None:
            return read()
        try:
            return self._values[key]
        except KeyError:
            pass
        value = read()
        if len(self._values) >= self._size:
            del self._values[next(iter(self._values))]
        self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        self._values.clear()
