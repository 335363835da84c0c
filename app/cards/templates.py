"""Card wording, loaded from the top-level ``cards/`` folder.

One TOML file per card kind (its topic, indicator, words, source, links and the codes of the
override reasons it offers), ``override-reasons.toml`` (the reasons' code system), (per-condition evidence and
sources) and ``titration.toml`` (the suggested order's text). Loaded once at
start-up and checked then: a missing file or field stops the service from
starting rather than failing on a patient's order.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.cards.kinds import CardKind
from app.cds.models import Coding, Link, Source
from app.knowledge.conditions import ConditionKind

# The project's two code systems. Fixed URIs, never derived from where the service is deployed,
# so an EHR can group, suppress and report cards by rule across deployments.
CARD_TOPIC_SYSTEM = "urn:ldn-cds:card-topic"  # one code per card kind: CardKind.slug
OVERRIDE_REASON_SYSTEM = "urn:ldn-cds:override-reason"  # codes listed in cards/override-reasons.toml
_TITRATION_FIELDS = (
    "medication_text",
    "step_text",
    "final_step_text",
    "step_instruction",
    "final_step_instruction",
    "note",
    "create_label",
    "create_description",
    "replace_label",
    "replace_description",
)


@dataclass(frozen=True, slots=True)
class SuggestionText:
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class CardTemplate:
    indicator: Literal["info", "warning", "critical"]
    summary: str
    detail: str
    source: Source
    links: tuple[Link, ...]
    override_reasons: tuple[Coding, ...]
    suggestion: SuggestionText | None


@dataclass(frozen=True, slots=True)
class ConditionEvidence:
    name: str
    gist: str  # the evidence in a few words, for summaries: "largest trial negative"
    evidence: str
    sources: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class Evidence:
    general: str
    practical: str
    general_sources: tuple[Link, ...]
    conditions: dict[ConditionKind, ConditionEvidence]


@dataclass(frozen=True, slots=True)
class CardTexts:
    templates: dict[CardKind, CardTemplate]
    evidence: Evidence
    titration: dict[str, str]


class TemplateError(Exception):
    pass


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TemplateError(f"{path}: {exc}") from exc


def _template(path: Path, kind: CardKind, reasons: dict[str, str]) -> CardTemplate:
    data = _read(path)
    try:
        if data["indicator"] not in {"info", "warning", "critical"}:
            raise ValueError(f"bad indicator {data['indicator']!r}")
        suggestion = data.get("suggestion")
        topic = Coding(system=CARD_TOPIC_SYSTEM, code=kind.slug, display=data["topic"])
        return CardTemplate(
            indicator=data["indicator"],
            summary=data["summary"],
            detail=data.get("detail", "").strip(),
            source=Source(**data["source"], topic=topic),
            links=tuple(Link(**link) for link in data.get("links", [])),
            override_reasons=tuple(
                Coding(system=OVERRIDE_REASON_SYSTEM, code=code, display=reasons[code])
                for code in data.get("override_reasons", [])
            ),
            suggestion=SuggestionText(**suggestion) if suggestion else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"card template {path}: {exc}") from exc


def _evidence(path: Path) -> Evidence:
    data = _read(path)
    try:
        sources = {key: Link(label=s["label"], url=s["url"]) for key, s in data["sources"].items()}
        conditions = {
            ConditionKind(key): ConditionEvidence(
                name=c["name"],
                gist=c["gist"],
                evidence=c["evidence"].strip(),
                sources=tuple(sources[s] for s in c["sources"]),
            )
            for key, c in data["conditions"].items()
        }
        return Evidence(
            general=data["general"].strip(),
            practical=data["practical"].strip(),
            general_sources=tuple(sources[s] for s in data["general_sources"]),
            conditions=conditions,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{path}: {exc}") from exc


def load_templates(directory: Path) -> CardTexts:
    titration = _read(directory / "titration.toml")
    missing = [field for field in _TITRATION_FIELDS if not isinstance(titration.get(field), str)]
    if missing:
        raise TemplateError(f"{directory / 'titration.toml'}: missing {', '.join(missing)}")
    reasons = _read(directory / "override-reasons.toml").get("reasons", {})
    return CardTexts(
        templates={kind: _template(directory / f"{kind.slug}.toml", kind, reasons) for kind in CardKind},
        evidence=_evidence(directory / "evidence.toml"),
        titration={k: v.strip() for k, v in titration.items() if isinstance(v, str)},
    )
