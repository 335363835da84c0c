"""Findings -> CDS Hooks cards, using the wording in ``cards/``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.cards.kinds import CardKind, new_card_uuid
from app.cards.templates import CardTexts
from app.cards.titration_order import format_mg, titration_order
from app.clinical_settings import ClinicalSettings
from app.fhir.record import DataGap, MedicationUse
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass
from app.protocol.models import Action, Card, Link, Suggestion
from app.rules.findings import (
    DoseConcern,
    Finding,
    LdnCandidate,
    LdnPositioning,
    LdnReassessmentDue,
    LdnStepDue,
    NaltrexoneBlocksOpioid,
    NaltrexoneDoseConcern,
    OpioidConflict,
    OpioidExposure,
    OpioidExposureOnLdn,
    OpioidStatusUnchecked,
    Stance,
    TriedAgent,
    UnsupportedFhirVersion,
)

MAX_SUMMARY = 139
_URGENCY = {"critical": 0, "warning": 1, "info": 2}
_GAP_NAMES = {
    "MedicationRequest": "prescriptions",
    "MedicationStatement": "reported medications",
    "MedicationDispense": "dispensing records",
    "Medication": "some medication details",
    "Condition": "diagnoses",
}
_DOSE_CLASS_TEXT = {DoseClass.standard_oral: "50 mg", DoseClass.er_injectable: "380 mg injection"}
_POSITIONING_KIND = {
    Stance.refractory: CardKind.ldn_positioning_refractory,
    Stance.standard_options_remain: CardKind.ldn_positioning_not_refractory,
    Stance.no_studied_condition: CardKind.ldn_positioning_off_label,
}
_DOSE_KIND = {
    DoseConcern.start_above_initial: CardKind.ldn_dose_start_above_initial,
    DoseConcern.above_ldn_max: CardKind.ldn_dose_above_max,
    DoseConcern.standard_dose_with_ldn_condition: CardKind.naltrexone_standard_dose_ldn_condition,
    DoseConcern.dose_unknown: CardKind.naltrexone_dose_unknown,
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    texts: CardTexts
    clinical: ClinicalSettings
    service_number: int
    patient_id: str

    def numbers(self) -> dict[str, Any]:
        """Every clinical number a template may quote, from settings."""
        c = self.clinical
        return {
            "short_days": c.opioid_free_days_short_acting,
            "long_days": c.opioid_free_days_long_acting,
            "start_mg": format_mg(c.titration_start_mg),
            "step_mg": format_mg(c.titration_step_mg),
            "step_weeks": c.titration_step_weeks,
            "target_mg": format_mg(c.titration_target_mg),
            "reassess_min": c.reassess_after_weeks_min,
            "reassess_max": c.reassess_after_weeks_max,
        }


def _day(value: date | None) -> str:
    return value.isoformat() if value else "date not recorded"


def _exposure_line(exposure: OpioidExposure) -> str:
    line = f"- **{exposure.use.name}**: {exposure.reason.value}"
    if exposure.interval_days is not None:
        return f"{line}, supply until {_day(exposure.on)} ({exposure.interval_days}-day opioid-free interval after that)"
    return f"{line}, since {_day(exposure.on)}"


def _names(values: Iterable[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(values))
    shown = ", ".join(unique[:limit])
    return f"{shown} +{len(unique) - limit} more" if len(unique) > limit else shown


def _gap_text(gaps: Sequence[DataGap]) -> str:
    return _names((_GAP_NAMES.get(g.resource_type, g.resource_type) for g in gaps), limit=4)


def _tried_text(tried: Sequence[TriedAgent]) -> str:
    if not tried:
        return "none"
    return "; ".join(f"{a.ingredient} ({a.therapy_class.value}, last {_day(a.last_seen)})" for a in tried)


def _unwrap(markdown: str) -> str:
    """Join the hard-wrapped lines of the TOML wording into paragraphs; keep list items."""
    paragraphs = []
    for block in markdown.strip().split("\n\n"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        merged: list[str] = []
        for line in lines:
            if merged and not line.startswith("- ") and not merged[-1].startswith("- "):
                merged[-1] += " " + line
            else:
                merged.append(line)
        if merged:
            paragraphs.append("\n".join(merged))
    return "\n\n".join(paragraphs)


def _fit(summary: str) -> str:
    return summary if len(summary) <= MAX_SUMMARY else summary[: MAX_SUMMARY - 1].rstrip() + "…"


class _Renderer:
    def __init__(self, ctx: RenderContext):
        self.ctx = ctx
        self.texts = ctx.texts
        self.numbers = ctx.numbers()

    def card(
        self,
        kind: CardKind,
        values: Mapping[str, object],
        *,
        suggestions: list[Suggestion] | None = None,
        extra_links: Sequence[Link] = (),
    ) -> Card:
        template = self.texts.templates[kind]
        merged = {**self.numbers, **values}
        links = list({link.url: link for link in [*template.links, *extra_links]}.values())
        return Card(
            uuid=self.uuid(kind),
            summary=_fit(template.summary.format_map(merged)),
            detail=_unwrap(template.detail.format_map(merged)) or None,
            indicator=template.indicator,
            source=template.source,
            suggestions=suggestions or None,
            selectionBehavior="at-most-one" if suggestions else None,
            overrideReasons=list(template.override_reasons) or None,
            links=links or None,
        )

    def uuid(self, kind: CardKind) -> str:
        return new_card_uuid(kind, self.ctx.service_number)

    # --- suggestions -------------------------------------------------------------

    def delete_order(self, kind: CardKind, order: MedicationUse) -> list[Suggestion] | None:
        text = self.texts.templates[kind].suggestion
        if text is None or order.reference is None:
            return None
        action = Action(type="delete", description=text.action, resourceId=order.reference)
        return [Suggestion(label=text.label, uuid=self.uuid(kind), actions=[action])]

    def titration(self, kind: CardKind, replacing: MedicationUse | None) -> list[Suggestion]:
        """The titration order: a new draft, or the drafted naltrexone order updated in place.

        Replacing is one ``update`` of the draft (same id), not delete + create: clients
        such as the CDS Hooks sandbox apply only the first action of a suggestion.
        """
        wording = self.texts.titration
        order = titration_order(self.ctx.patient_id, self.ctx.clinical, wording, self.numbers)
        if replacing is not None and replacing.resource_id is not None:
            order = {"resourceType": order["resourceType"], "id": replacing.resource_id, **order}
            action = Action(type="update", description=wording["replace_description"], resource=order)
            label = wording["replace_label"]
        else:
            action = Action(type="create", description=wording["create_description"], resource=order)
            label = wording["create_label"]
        return [Suggestion(label=label.format_map(self.numbers), uuid=self.uuid(kind), isRecommended=True, actions=[action])]

    # --- evidence ----------------------------------------------------------------

    def evidence_values(self, conditions: Sequence[ConditionKind]) -> tuple[dict[str, str], list[Link]]:
        evidence = self.texts.evidence
        known = [evidence.conditions[c] for c in conditions if c in evidence.conditions]
        links = [link for e in known for link in e.sources] + list(evidence.general_sources)
        values = {
            "conditions": " and ".join(e.name for e in known) or "this condition",
            "evidence": "\n\n".join(e.evidence for e in known),
            "general": evidence.general.format_map(self.numbers),
            "practical": evidence.practical.format_map(self.numbers),
        }
        return values, links

    # --- one finding -------------------------------------------------------------

    def render(self, finding: Finding) -> Card:
        match finding:
            case OpioidConflict(naltrexone_order=order, exposures=exposures, gaps=gaps):
                kind = CardKind.opioid_conflict
                values = {
                    "order": order.name,
                    "opioids": _names(i for e in exposures for i in e.use.drug.opioid_ingredients),
                    "exposures": "\n".join(_exposure_line(e) for e in exposures),
                    "gap_note": f"\nThis service also could not read: {_gap_text(gaps)}." if gaps else "",
                }
                return self.card(kind, values, suggestions=self.delete_order(kind, order))
            case OpioidStatusUnchecked(naltrexone_order=order, gaps=gaps):
                values = {"order": order.name, "missing": _gap_text(gaps), "missing_detail": _gap_text(gaps)}
                return self.card(CardKind.opioid_status_unchecked, values)
            case NaltrexoneBlocksOpioid(opioid_order=order, naltrexone=naltrexone):
                values = {
                    "opioid_order": order.name,
                    "opioid": _names(order.drug.opioid_ingredients) or order.name,
                    "naltrexone_lines": self.naltrexone_lines(naltrexone),
                }
                return self.card(CardKind.naltrexone_blocks_opioid, values)
            case UnsupportedFhirVersion(resource_type=resource_type):
                return self.card(CardKind.fhir_version_unsupported, {"resource_type": resource_type})
            case LdnPositioning():
                return self.positioning(finding)
            case NaltrexoneDoseConcern():
                return self.dose(finding)
            case LdnStepDue():
                values = {
                    "current_mg": format_mg(finding.current_dose_mg),
                    "next_mg": format_mg(finding.next_dose_mg),
                    "weeks_on_therapy": finding.weeks_on_therapy,
                    "weeks_on_current": finding.weeks_on_current_dose,
                }
                return self.card(CardKind.ldn_step_due, values)
            case LdnReassessmentDue():
                values = {
                    "current_mg": format_mg(finding.current_dose_mg),
                    "weeks_on_therapy": finding.weeks_on_therapy,
                    "weeks_at_target": finding.weeks_at_target,
                    "general": self.evidence_values(())[0]["general"],
                }
                return self.card(CardKind.ldn_reassess_due, values)
            case LdnCandidate(conditions=conditions, tried=tried):
                kind = CardKind.ldn_candidate
                values, links = self.evidence_values(conditions)
                values.update(tried=_tried_text(tried), tried_count=str(len(tried)))
                return self.card(kind, values, suggestions=self.titration(kind, None), extra_links=links)
            case OpioidExposureOnLdn(naltrexone=naltrexone, exposures=exposures):
                values = {
                    "opioids": _names(i for e in exposures for i in e.use.drug.opioid_ingredients),
                    "exposures": "\n".join(_exposure_line(e) for e in exposures),
                    "naltrexone_lines": self.naltrexone_lines(naltrexone),
                }
                return self.card(CardKind.opioid_exposure_on_ldn, values)
        raise TypeError(f"no card for {type(finding).__name__}")

    @staticmethod
    def naltrexone_lines(uses: Sequence[MedicationUse]) -> str:
        return "\n".join(
            f"- **{u.name}**: {u.source.value} {u.status or 'status not recorded'}, since {_day(u.started)}" for u in uses
        )

    def positioning(self, finding: LdnPositioning) -> Card:
        kind = _POSITIONING_KIND[finding.stance]
        values, links = self.evidence_values(finding.conditions)
        values.update(
            tried=_tried_text(finding.tried),
            tried_count=str(len(finding.tried)),
            untried=_names((c.value for c in finding.untried), limit=5) or "none",
            untried_short=_names((c.value for c in finding.untried), limit=2) or "none",
        )
        suggestions = self.titration(kind, finding.order) if finding.offer_titration else None
        return self.card(kind, values, suggestions=suggestions, extra_links=links)

    def dose(self, finding: NaltrexoneDoseConcern) -> Card:
        kind = _DOSE_KIND[finding.concern]
        evidence, _ = self.evidence_values(finding.conditions)
        dose = finding.dose_mg
        values = {
            "order": finding.order.name,
            "dose_mg": format_mg(dose) if dose is not None else "an unstated dose",
            "dose_text": f"{format_mg(dose)} mg" if dose is not None else _DOSE_CLASS_TEXT.get(finding.dose_class, "as ordered"),
            "conditions": evidence["conditions"],
        }
        suggestions = self.titration(kind, finding.order) if finding.offer_titration else None
        return self.card(kind, values, suggestions=suggestions)


def render_cards(findings: Sequence[Finding], ctx: RenderContext, max_cards: int) -> list[Card]:
    """Cards ordered by urgency, one per distinct summary, at most ``max_cards``."""
    renderer = _Renderer(ctx)
    cards: dict[str, Card] = {}
    for finding in findings:
        card = renderer.render(finding)
        cards.setdefault(card.summary, card)
    ordered = sorted(cards.values(), key=lambda c: _URGENCY[c.indicator])
    return ordered[:max_cards]
