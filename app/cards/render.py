"""Findings -> CDS Hooks cards, using the wording in ``cards/``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from app.cards.kinds import CardKind, new_card_uuid
from app.cards.templates import CardTemplate
from app.fhir.record import DataGap, MedicationUse
from app.protocol.models import Action, Card, Suggestion
from app.rules.findings import (
    Finding,
    NaltrexoneBlocksOpioid,
    OpioidConflict,
    OpioidExposure,
    OpioidStatusUnchecked,
    UnsupportedFhirVersion,
)
from app.clinical_settings import ClinicalSettings

MAX_SUMMARY = 139
_URGENCY = {"critical": 0, "warning": 1, "info": 2}
_GAP_NAMES = {
    "MedicationRequest": "prescriptions",
    "MedicationStatement": "reported medications",
    "MedicationDispense": "dispensing records",
    "Medication": "some medication details",
    "Condition": "diagnoses",
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    templates: Mapping[CardKind, CardTemplate]
    clinical: ClinicalSettings
    service_number: int


def _day(value: date | None) -> str:
    return value.isoformat() if value else "date not recorded"


def _exposure_line(exposure: OpioidExposure) -> str:
    line = f"- **{exposure.use.name}**: {exposure.reason.value}"
    if exposure.interval_days is not None:
        return f"{line}, supply ended {_day(exposure.on)} ({exposure.interval_days}-day interval applies)"
    return f"{line}, since {_day(exposure.on)}"


def _names(values: Iterable[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(values))
    shown = ", ".join(unique[:limit])
    return f"{shown} +{len(unique) - limit} more" if len(unique) > limit else shown


def _gap_text(gaps: Sequence[DataGap]) -> str:
    return _names((_GAP_NAMES.get(g.resource_type, g.resource_type) for g in gaps), limit=4)


def _fit(summary: str) -> str:
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1].rstrip() + "…"


def _card(
    ctx: RenderContext,
    kind: CardKind,
    values: Mapping[str, object],
    delete: MedicationUse | None = None,
) -> Card:
    template = ctx.templates[kind]
    suggestions = None
    if template.suggestion and delete is not None and delete.reference:
        suggestions = [
            Suggestion(
                label=template.suggestion.label,
                uuid=new_card_uuid(kind, ctx.service_number),
                actions=[Action(type="delete", description=template.suggestion.action, resourceId=delete.reference)],
            )
        ]
    return Card(
        uuid=new_card_uuid(kind, ctx.service_number),
        summary=_fit(template.summary.format_map(values)),
        detail=template.detail.format_map(values).strip() or None,
        indicator=template.indicator,
        source=template.source,
        suggestions=suggestions,
        selectionBehavior="at-most-one" if suggestions else None,
        overrideReasons=list(template.override_reasons) or None,
        links=list(template.links) or None,
    )


def _render_one(finding: Finding, ctx: RenderContext) -> Card:
    clinical = ctx.clinical
    intervals = {
        "short_days": clinical.opioid_free_days_short_acting,
        "long_days": clinical.opioid_free_days_long_acting,
    }
    match finding:
        case OpioidConflict(naltrexone_order=order, exposures=exposures, gaps=gaps):
            gap_note = f"\nThis service also could not read: {_gap_text(gaps)}." if gaps else ""
            values = {
                "order": order.name,
                "opioids": _names(i for e in exposures for i in e.use.drug.opioid_ingredients),
                "exposures": "\n".join(_exposure_line(e) for e in exposures),
                "gap_note": gap_note,
                **intervals,
            }
            return _card(ctx, CardKind.opioid_conflict, values, delete=order)
        case OpioidStatusUnchecked(naltrexone_order=order, gaps=gaps):
            values = {"order": order.name, "missing": _gap_text(gaps), "missing_detail": _gap_text(gaps), **intervals}
            return _card(ctx, CardKind.opioid_status_unchecked, values)
        case NaltrexoneBlocksOpioid(opioid_order=order, naltrexone=naltrexone):
            values = {
                "opioid_order": order.name,
                "opioid": _names(order.drug.opioid_ingredients) or order.name,
                "naltrexone_lines": "\n".join(
                    f"- **{u.name}**: {u.source.value} {u.status or 'status not recorded'}, since {_day(u.started)}"
                    for u in naltrexone
                ),
            }
            return _card(ctx, CardKind.naltrexone_blocks_opioid, values)
        case UnsupportedFhirVersion(resource_type=resource_type):
            return _card(ctx, CardKind.fhir_version_unsupported, {"resource_type": resource_type})
    raise TypeError(f"no card for {type(finding).__name__}")


def render_cards(findings: Sequence[Finding], ctx: RenderContext, max_cards: int) -> list[Card]:
    """Cards ordered by urgency, one per distinct summary, at most ``max_cards``."""
    cards: dict[str, Card] = {}
    for finding in findings:
        card = _render_one(finding, ctx)
        cards.setdefault(card.summary, card)
    ordered = sorted(cards.values(), key=lambda c: _URGENCY[c.indicator])
    return ordered[:max_cards]
