"""One deadline per call for all outbound work (JWKS fetch, FHIR reads).

Started when the request arrives; everything the call waits on outside the process
spends from it. A per-read timeout alone lets a server that trickles one byte at a
time hold a call for as long as it likes: only a total time bounds the call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    expires_at: float  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.expires_at - time.monotonic())
