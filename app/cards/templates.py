"""Card wording, loaded from the top-level ``cards/`` folder (one TOML file per kind).

Loaded once at start-up and checked then: a missing file or field stops the
service from starting rather than failing on a patient's order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.cards.kinds import CardKind
from app.protocol.models import Coding, Link, Source

OVERRIDE_REASON_SYSTEM = "urn:ldn-cds:override-reason"


@dataclass(frozen=True, slots=True)
class SuggestionText:
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class CardTemplate:
    kind: CardKind
    indicator: Literal["info", "warning", "critical"]
    summary: str
    detail: str
    source: Source
    links: tuple[Link, ...]
    override_reasons: tuple[Coding, ...]
    suggestion: SuggestionText | None


class TemplateError(Exception):
    pass


def _load(path: Path, kind: CardKind) -> CardTemplate:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        suggestion = data.get("suggestion")
        return CardTemplate(
            kind=kind,
            indicator=data["indicator"],
            summary=data["summary"],
            detail=data.get("detail", "").strip(),
            source=Source(**data["source"]),
            links=tuple(Link(**link) for link in data.get("links", [])),
            override_reasons=tuple(
                Coding(system=OVERRIDE_REASON_SYSTEM, code=r["code"], display=r["display"])
                for r in data.get("override_reasons", [])
            ),
            suggestion=SuggestionText(**suggestion) if suggestion else None,
        )
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"card template {path}: {exc}") from exc


def load_templates(directory: Path) -> dict[CardKind, CardTemplate]:
    templates = {kind: _load(directory / f"{kind.slug}.toml", kind) for kind in CardKind}
    for template in templates.values():
        if template.indicator not in {"info", "warning", "critical"}:
            raise TemplateError(f"{template.kind.slug}: bad indicator {template.indicator!r}")
    return templates
