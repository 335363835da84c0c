"""Findings -> CDS Hooks cards, using the wording in ``cards/``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from app.cards.kinds import CardKind
from app.cards.templates import CardTexts
from app.cards.timeline_text import blockade_line, blockade_until, day_text, is_oral, opioid_line
from app.cards.titration_order import titration_order
from app.cds.models import Action, Card, Link, Suggestion
from app.clinical_settings import ClinicalSettings
from app.domain.record import ConditionEntry, DataGap, MedicationUse
from app.knowledge.conditions import ConditionKind
from app.knowledge.dose import DoseClass, format_mg
from app.knowledge.therapies import SHORT_NAMES, Line
from app.rules.exposure import Exposure
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
    OpioidDependenceOnRecord,
    OpioidExposureOnLdn,
    OpioidStatusUnchecked,
    Stance,
    UnsupportedFhirVersion,
)
from app.rules.treatment_history import TriedAgent

MAX_SUMMARY = 139
_URGENCY = {"critical": 0, "warning": 1, "info": 2}
_GAP_NAMES = {
    "MedicationRequest": "prescriptions",
    "MedicationStatement": "reported medications",
    "MedicationDispense": "dispensing records",
    "MedicationAdministration": "administration records",
    "Medication": "some medication details",
    "Condition": "diagnoses",
}
_DOSE_CLASS_TEXT = {DoseClass.standard_oral: "50 mg", DoseClass.er_injectable: "380 mg injection"}
_POSITIONING_KIND = {
    Stance.refractory: CardKind.ldn_positioning_refractory,
    Stance.standard_options_remain: CardKind.ldn_positioning_not_refractory,
    Stance.not_assessed: CardKind.ldn_positioning_not_assessed,
    Stance.no_studied_condition: CardKind.ldn_positioning_off_label,
}
_DOSE_KIND = {
    DoseConcern.start_above_initial: CardKind.ldn_dose_start_above_initial,
    DoseConcern.below_ldn_range: CardKind.ldn_dose_below_range,
    DoseConcern.above_ldn_max: CardKind.ldn_dose_above_max,
    DoseConcern.standard_dose_with_ldn_condition: CardKind.naltrexone_standard_dose_ldn_condition,
    DoseConcern.dose_unknown: CardKind.naltrexone_dose_unknown,
}


@dataclass(frozen=True, slots=True)
class RenderContext:
    texts: CardTexts
    clinical: ClinicalSettings
    patient_id: str

    def numbers(self) -> dict[str, int | float | str]:
        """Every clinical number a template may quote, from settings."""
        c = self.clinical
        return {
            "short_days": c.opioid_free_days_short_acting,
            "agonist_days": c.opioid_free_days_methadone_buprenorphine,
            "er_days": c.opioid_free_days_extended_release,
            "er_blockade_days": c.naltrexone_er_blockade_days,
            "oral_margin_days": c.naltrexone_oral_blockade_margin_days,
            "cap_days": c.max_assumed_supply_days,
            "start_mg": format_mg(c.titration_start_mg),
            "step_mg": format_mg(c.titration_step_mg),
            "step_weeks": c.titration_step_weeks,
            "target_mg": format_mg(c.titration_target_mg),
            "reassess_min": c.reassess_after_weeks_min,
            "reassess_max": c.reassess_after_weeks_max,
            "strength_mg": format_mg(c.titration_compounded_strength_mg),
            "trial_weeks": c.min_trial_weeks,
            "unit_error_mg": format_mg(c.ldn_unit_error_below_mg),
            "max_mg": format_mg(c.ldn_max_mg),
            "standard_mg": format_mg(c.standard_oral_mg),
            "er_mg": format_mg(c.er_injectable_mg),
        }


_day = day_text


def _names(values: Iterable[str], limit: int = 3) -> str:
    return Listing.of(values, "items").at(limit)


@dataclass(frozen=True, slots=True)
class Listing:
    """A list a card names (opioids, conditions): whole in the detail, shortened in the summary.

    Summaries must read whole under 140 characters, so a long list is shortened at item
    boundaries ("oxycodone, tramadol +2 more", then "4 opioids"), never cut mid-word.
    """

    items: tuple[str, ...]
    noun: str  # plural, for the shortest form: "4 opioids"
    joiner: str = ", "

    @classmethod
    def of(cls, values: Iterable[str], noun: str, joiner: str = ", ") -> Listing:
        return cls(tuple(dict.fromkeys(v for v in values if v)), noun, joiner)

    def at(self, limit: int | None) -> str:
        if limit is None or len(self.items) <= limit:
            return self.joiner.join(self.items)
        if limit == 0:
            # One item is named, never counted: "1 conditions" reads as a bug, not a summary.
            return self.items[0] if len(self.items) == 1 else f"{len(self.items)} {self.noun}"
        return f"{', '.join(self.items[:limit])} +{len(self.items) - limit} more"

    def __str__(self) -> str:
        return self.at(None)


# What a template's {placeholder} is filled with: a clinical number, text, or a list that the
# summary shortens to fit.
Fill: TypeAlias = int | float | str | Listing
Fills: TypeAlias = dict[str, Fill]


# Longest lists first, then shorter, then counts: the first that fits under the limit is used.
_SUMMARY_LIMITS: tuple[int | None, ...] = (None, 3, 2, 1, 0)


def _gap_text(gaps: Sequence[DataGap]) -> str:
    return _names((_GAP_NAMES.get(g.resource_type, g.resource_type) for g in gaps), limit=4)


def _opioid_names(exposures: Iterable[Exposure]) -> Listing:
    return Listing.of((i for e in exposures for i in e.use.drug.opioid_ingredients), "opioids")


def _unchecked_text(uncertain: Sequence[Exposure], gaps: Sequence[DataGap]) -> Listing:
    """What could not be checked, for a summary: opioids whose end is unknown, unread record parts."""
    parts = [f"{i}: end of use unknown" for e in uncertain for i in e.use.drug.opioid_ingredients]
    parts += [f"{_GAP_NAMES.get(g.resource_type, g.resource_type)} not read" for g in gaps]
    return Listing.of(parts, "gaps")


def _as_written(written: str | None, dose: float | None) -> str:
    """The dose as written, then in mg: "4.5 mcg (0.0045 mg)"; a dose already written in mg once: "0.3 mg"."""
    mg = f"{format_mg(dose)} mg" if dose is not None else "an unstated dose"
    if not written or written == mg or dose is None:
        return mg
    return f"{written} ({mg})"


def _lines_text(lines: Sequence[Line]) -> str:
    """Each line of standard care not yet tried: "a tricyclic antidepressant or SNRI; a gabapentinoid"."""
    return "; ".join("a " + " or ".join(c.value for c in line) for line in lines)


def _diagnosis_line(condition: ConditionEntry) -> str:
    state = (
        "in remission per record" if condition.in_remission else (condition.clinical_status or "status not recorded")
    )
    onset = f", onset {_day(condition.onset)}" if condition.onset else ""
    return f"- **{condition.name}** ({state}{onset})"


def _tried_text(tried: Sequence[TriedAgent], clinical: ClinicalSettings) -> str:
    """Each standard therapy on record and whether it counts as tried, in the record's own terms."""
    if not tried:
        return "none"
    lines = []
    for agent in tried:
        head = f"- **{agent.ingredient}** ({agent.therapy_class.value})"
        if agent.stopped_because:
            lines.append(f"{head}: stopped, per the record: {agent.stopped_because}")
        elif agent.weeks is not None and agent.counts(clinical):
            lines.append(f"{head}: tried for {agent.weeks} weeks")
        elif agent.weeks is not None:
            lines.append(
                f"{head}: {agent.weeks} weeks on record, shorter than a {clinical.min_trial_weeks}-week trial; not counted"
            )
        else:
            lines.append(f"{head}: how long it was taken is not on record; not counted")
    return "\n".join(lines)


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


def _summary(template: str, values: Mapping[str, Fill]) -> str:
    """The template filled with the longest lists that keep it under the limit."""
    for limit in _SUMMARY_LIMITS:
        filled = {k: v.at(limit) if isinstance(v, Listing) else v for k, v in values.items()}
        summary = template.format_map(filled)
        if len(summary) <= MAX_SUMMARY:
            return summary
    # Only a template too long by itself gets here (tests render every kind with long inputs).
    return summary[: summary.rfind(" ", 0, MAX_SUMMARY - 1)] + "…"


class _Renderer:
    def __init__(self, ctx: RenderContext):
        self.ctx = ctx
        self.texts = ctx.texts
        self.numbers = ctx.numbers()

    def card(
        self,
        kind: CardKind,
        values: Mapping[str, Fill],
        *,
        suggestions: list[Suggestion] | None = None,
        extra_links: Sequence[Link] = (),
    ) -> Card:
        template = self.texts.templates[kind]
        merged = {**self.numbers, **values}
        links = list({link.url: link for link in [*template.links, *extra_links]}.values())
        return Card(
            uuid=self.uuid(),
            summary=_summary(template.summary, merged),
            detail=_unwrap(template.detail.format_map(merged)) or None,
            indicator=template.indicator,
            source=template.source,
            suggestions=suggestions or None,
            selectionBehavior="at-most-one" if suggestions else None,
            overrideReasons=list(template.override_reasons) or None,
            links=links or None,
        )

    @staticmethod
    def uuid() -> str:
        return str(uuid.uuid4())  # unique per card and suggestion; feedback finds cards in card identity

    # --- suggestions -------------------------------------------------------------

    def delete_order(self, kind: CardKind, order: MedicationUse) -> list[Suggestion] | None:
        text = self.texts.templates[kind].suggestion
        if text is None or order.reference is None:
            return None
        action = Action(type="delete", description=text.action, resourceId=order.reference)
        return [Suggestion(label=text.label, uuid=self.uuid(), actions=[action])]

    def titration(
        self, kind: CardKind, replacing: MedicationUse | None, diagnoses: Sequence[ConditionEntry]
    ) -> list[Suggestion]:
        """The titration order: a new draft, or the drafted naltrexone order updated in place.

        Replacing is one ``update`` of the draft (same id), not delete + create: clients
        such as the CDS Hooks sandbox apply only the first action of a suggestion.
        """
        wording = self.texts.titration
        order = titration_order(self.ctx.patient_id, self.ctx.clinical, wording, self.numbers, diagnoses)
        if replacing is not None and replacing.resource_id is not None:
            order = {"resourceType": order["resourceType"], "id": replacing.resource_id, **order}
            action = Action(type="update", description=wording["replace_description"], resource=order)
            label = wording["replace_label"]
        else:
            action = Action(type="create", description=wording["create_description"], resource=order)
            label = wording["create_label"]
        return [
            Suggestion(label=label.format_map(self.numbers), uuid=self.uuid(), isRecommended=True, actions=[action])
        ]

    # --- evidence ----------------------------------------------------------------

    def evidence_values(self, conditions: Sequence[ConditionKind]) -> tuple[Fills, list[Link]]:
        evidence = self.texts.evidence
        known = [evidence.conditions[c] for c in conditions if c in evidence.conditions]
        links = [link for e in known for link in e.sources] + list(evidence.general_sources)
        values: Fills = {
            "conditions": Listing.of((e.name for e in known), "conditions", " and ") if known else "this condition",
            "gist": Listing.of((e.gist for e in known), "conditions", "; ") if known else "limited",
            "evidence": "\n\n".join(e.evidence.format_map(self.numbers) for e in known),
            "general": evidence.general.format_map(self.numbers),
            "practical": evidence.practical.format_map(self.numbers),
        }
        return values, links

    # --- one finding -------------------------------------------------------------

    def render(self, finding: Finding) -> Card:
        values: Fills
        match finding:
            case OpioidConflict(naltrexone_order=order, exposures=exposures, uncertain=uncertain, gaps=gaps):
                kind = CardKind.opioid_conflict
                notes = []
                if uncertain:
                    notes.append("Also possibly still in use:\n" + self.opioid_lines(uncertain))
                if gaps:
                    notes.append(f"This service also could not read: {_gap_text(gaps)}.")
                values = {
                    "order": order.name,
                    "opioids": _opioid_names(exposures),
                    "exposures": self.opioid_lines(exposures),
                    "also": ("\n\n" + "\n\n".join(notes)) if notes else "",
                }
                return self.card(kind, values, suggestions=self.delete_order(kind, order))
            case OpioidStatusUnchecked(naltrexone_order=order, uncertain=uncertain, gaps=gaps):
                lines = [self.opioid_lines(uncertain)] if uncertain else []
                if gaps:
                    lines.append(
                        f"- Not read: {_gap_text(gaps)}. No opioid was found in what was read, which is not the same as no opioid."
                    )
                values = {
                    "order": order.name,
                    "missing": _unchecked_text(uncertain, gaps),
                    "unchecked": "\n".join(lines),
                }
                return self.card(CardKind.opioid_status_unchecked, values)
            case NaltrexoneBlocksOpioid(opioid_order=order, blockades=blockades):
                margin = self.numbers["oral_margin_days"]
                values = {
                    "opioid_order": order.name,
                    "opioid": Listing.of(order.drug.opioid_ingredients, "opioids")
                    if order.drug.opioid_ingredients
                    else order.name,
                    "until": blockade_until(blockades),
                    "naltrexone_lines": "\n".join(blockade_line(b) for b in blockades),
                    "oral_margin_note": (
                        f" Oral naltrexone is counted as blocking for {margin} days after its supply ends"
                        " (this service's own margin)."
                        if any(is_oral(b) for b in blockades)
                        else ""
                    ),
                }
                return self.card(CardKind.naltrexone_blocks_opioid, values)
            case OpioidDependenceOnRecord(naltrexone_order=order, diagnoses=diagnoses):
                values = {
                    "order": order.name,
                    "diagnoses": Listing.of((c.name for c in diagnoses), "diagnoses"),
                    "diagnosis_lines": "\n".join(_diagnosis_line(c) for c in diagnoses),
                }
                return self.card(CardKind.opioid_dependence_on_record, values)
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
            case LdnCandidate(conditions=conditions, tried=tried, places=places, diagnoses=diagnoses):
                kind = CardKind.ldn_candidate
                values, links = self.evidence_values(conditions)
                values.update(self.tried_values(tried, (), places))
                return self.card(kind, values, suggestions=self.titration(kind, None, diagnoses), extra_links=links)
            case OpioidExposureOnLdn(naltrexone=naltrexone, exposures=exposures):
                values = {
                    "opioids": _opioid_names(exposures),
                    "exposures": self.opioid_lines(exposures, naltrexone_start=False),
                    "naltrexone_lines": "\n".join(blockade_line(b) for b in naltrexone),
                }
                return self.card(CardKind.opioid_exposure_on_ldn, values)
        raise TypeError(f"no card for {type(finding).__name__}")

    def opioid_lines(self, exposures: Sequence[Exposure], *, naltrexone_start: bool = True) -> str:
        cap = self.ctx.clinical.max_assumed_supply_days
        return "\n".join(opioid_line(e, cap, naltrexone_start=naltrexone_start) for e in exposures)

    def positioning(self, finding: LdnPositioning) -> Card:
        kind = _POSITIONING_KIND[finding.stance]
        values, links = self.evidence_values(finding.conditions)
        values.update(self.tried_values(finding.tried, finding.untried, finding.places))
        suggestions = self.titration(kind, finding.order, finding.diagnoses) if finding.offer_titration else None
        return self.card(kind, values, suggestions=suggestions, extra_links=links)

    def tried_values(self, tried: Sequence[TriedAgent], untried: Sequence[Line], places: Sequence[str]) -> Fills:
        clinical = self.ctx.clinical
        return {
            "tried": _tried_text(tried, clinical),
            "tried_count": str(sum(a.counts(clinical) for a in tried)),
            "untried": _lines_text(untried) or "none",
            "untried_short": Listing.of((" or ".join(SHORT_NAMES[c] for c in line) for line in untried), "lines")
            if untried
            else "none",
            "place": " / ".join(places) or "3rd/4th-line",
        }

    def dose(self, finding: NaltrexoneDoseConcern) -> Card:
        kind = _DOSE_KIND[finding.concern]
        evidence, _ = self.evidence_values(finding.conditions)
        dose = finding.dose_mg
        step = finding.order.first_step
        as_written = step.as_written if step is not None else None
        values = {
            "order": finding.order.name,
            "dose_mg": format_mg(dose) if dose is not None else "an unstated dose",
            "dose_text": f"{format_mg(dose)} mg"
            if dose is not None
            else _DOSE_CLASS_TEXT.get(finding.dose_class, "as ordered"),
            "as_written": _as_written(as_written, dose),
            "problem": finding.problem or "no dose is written in the order",
            "conditions": evidence["conditions"],
            "standard_options": (
                f" Standard options not yet tried for at least {self.ctx.clinical.min_trial_weeks} weeks: "
                f"{_lines_text(finding.untried)}; LDN usually comes after them."
                if finding.untried
                else ""
            ),
        }
        suggestions = self.titration(kind, finding.order, finding.diagnoses) if finding.offer_titration else None
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
