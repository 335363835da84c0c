"""The exposure-in-time cases of the status table in docs/clinical-rules.md: one real FHIR
resource per case, with its last possible day of use worked out by hand. Used by the model's tests
(tests/unit/rules/test_last_use.py) and by the same cases through each hook's API
(tests/api/test_exposure_in_time.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.clinical_settings import ClinicalSettings
from app.rules.last_use import Certainty, StatusMeaning
from tests.support.fhir import (
    METHADONE_LIQUID,
    OXYCODONE_5MG,
    UCUM,
    concept,
    medication_administration,
    medication_dispense,
    medication_request,
    medication_statement,
)

S = date(2026, 10, 1)  # every record starts (is written, handed over, given) on this day
CLINICAL = ClinicalSettings()
CAP = CLINICAL.max_assumed_supply_days


def day(offset: int) -> str:
    return (S + timedelta(days=offset)).isoformat()


def tablets(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "tablet"}


def mg(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def every(hours: int, dose: dict[str, Any], *, prn: bool = False, **extra: Any) -> list[dict[str, Any]]:
    dosage = {
        "timing": {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}},
        "doseAndRate": [{"doseQuantity": dose}],
    }
    if prn:
        dosage["asNeededBoolean"] = True
    return [{**dosage, **extra}]


def supply(
    *,
    days: int | None = None,
    quantity: dict[str, Any] | None = None,
    repeats: int | None = None,
    valid_to: int | None = None,
) -> dict[str, Any]:
    dispense: dict[str, Any] = {}
    if days is not None:
        dispense["expectedSupplyDuration"] = {"value": days, "unit": "days", "system": UCUM, "code": "d"}
    if quantity is not None:
        dispense["quantity"] = quantity
    if repeats is not None:
        dispense["numberOfRepeatsAllowed"] = repeats
    if valid_to is not None:
        dispense["validityPeriod"] = {"start": day(0), "end": day(valid_to)}
    return dispense


@dataclass(frozen=True)
class Case:
    id: str
    resource: dict[str, Any]
    meaning: StatusMeaning
    last: int | None = None  # the last possible day, as an offset from S; None when unknown
    certainty: Certainty = Certainty.known
    cap_from: int | None = None  # offset the assumed-supply cap counts from (uncertain ends)
    extra: list[dict[str, Any]] = field(default_factory=list)  # e.g. a referenced Medication


CURRENT, BY_DATES, NEVER = StatusMeaning.current, StatusMeaning.by_dates, StatusMeaning.never
AT_LEAST, UNKNOWN = Certainty.at_least, Certainty.unknown
OXY = OXYCODONE_5MG

CASES = [
    # MedicationRequest -------------------------------------------------------------------------
    *(Case(f"request {s}, written 400 days ago", medication_request(OXY, status=s, authored_on=day(-400)), CURRENT)
      for s in ("active", "on-hold", "draft", "unknown")),
    Case("request completed, 3-day expected supply", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(days=3)), BY_DATES, 2),
    Case("request stopped, 7 days x (1 + 2 repeats)", medication_request(OXY, status="stopped", authored_on=day(0), dispenseRequest=supply(days=7, repeats=2)), BY_DATES, 20),
    Case("request completed, 20 tablets at 1 tablet every 6 h", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(quantity=tablets(20)), dosageInstruction=every(6, tablets(1))), BY_DATES, 4),
    Case("request completed, 30 tablets at 5 mg every 8 h (5 mg tablet)", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(quantity=tablets(30)), dosageInstruction=every(8, mg(5))), BY_DATES, 9),
    Case("request completed, 12 tablets as needed every 6 h: earliest end", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(quantity=tablets(12)), dosageInstruction=every(6, tablets(1), prn=True)), BY_DATES, 2, AT_LEAST, 0),
    Case("request completed, as needed with a maximum of 2 tablets a day", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(quantity=tablets(20)), dosageInstruction=every(4, tablets(1), prn=True, maxDosePerPeriod={"numerator": tablets(2), "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"}})), BY_DATES, 9, AT_LEAST, 0),
    Case("request completed, free-text dosing only", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(quantity=tablets(20)), dosageInstruction=[{"text": "1-2 tabs q4-6h prn"}]), BY_DATES, 0, AT_LEAST, 0),
    Case("request completed, no supply data at all", medication_request(OXY, status="completed", authored_on=day(0)), BY_DATES, 0, AT_LEAST, 0),
    Case("request completed, 6 x 30 days but valid for 60 days", medication_request(OXY, status="completed", authored_on=day(0), dispenseRequest=supply(days=30, repeats=5, valid_to=59)), BY_DATES, 59 + 29),
    Case("request completed, 120 mL of 10 mg/mL methadone at 10 mg a day", medication_request(METHADONE_LIQUID, status="completed", authored_on=day(0), dispenseRequest=supply(quantity={"value": 120, "unit": "mL"}), dosageInstruction=[{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}, "doseAndRate": [{"doseQuantity": mg(10)}]}]), BY_DATES, 119),
    Case("request completed without authoredOn", medication_request(OXY, status="completed", dispenseRequest=supply(days=3)), BY_DATES, None, UNKNOWN),
    Case("request with no status, 3-day supply", {**medication_request(OXY, authored_on=day(0), dispenseRequest=supply(days=3)), "status": None}, BY_DATES, 2),
    Case("request cancelled, written today", medication_request(OXY, status="cancelled", authored_on=day(0), dispenseRequest=supply(days=30)), NEVER),
    # MedicationStatement -----------------------------------------------------------------------
    *(Case(f"statement {s}, from 400 days ago", medication_statement(OXY, status=s, start=day(-400)), CURRENT) for s in ("active", "intended")),
    Case("statement completed, period ended", medication_statement(OXY, status="completed", start=day(0), end=day(10)), BY_DATES, 10),
    Case("statement stopped, effectiveDateTime", medication_statement(OXY, status="stopped", effectiveDateTime=day(5)), BY_DATES, 5),
    Case("statement completed, only dateAsserted", medication_statement(OXY, status="completed", dateAsserted=day(3)), BY_DATES, 3),
    *(Case(f"statement {s}, open period, asserted later", medication_statement(OXY, status=s, start=day(0), dateAsserted=day(7)), BY_DATES, 7, AT_LEAST, 7)
      for s in ("on-hold", "unknown")),
    Case("statement completed, open period, never asserted", medication_statement(OXY, status="completed", start=day(0)), BY_DATES, 0, AT_LEAST, 0),
    Case("statement unknown, no date at all", medication_statement(OXY, status="unknown"), BY_DATES, None, UNKNOWN),
    Case("statement not-taken, asserted today", medication_statement(OXY, status="not-taken", start=day(0), dateAsserted=day(0)), NEVER),
    # MedicationDispense ------------------------------------------------------------------------
    *(Case(f"dispense {s}, 7-day supply", medication_dispense(OXY, status=s, handed_over=day(0), days_supply=7), BY_DATES, 6)
      for s in ("completed", "stopped", "unknown")),
    Case("dispense without daysSupply: 120 tablets at 1 every 6 h", medication_dispense(OXY, handed_over=day(0), days_supply=None, quantity=tablets(120), dosageInstruction=every(6, tablets(1))), BY_DATES, 29),
    Case("dispense without daysSupply or dosing", medication_dispense(OXY, handed_over=day(0), days_supply=None, quantity=tablets(120)), BY_DATES, 0, AT_LEAST, 0),
    Case("dispense of 120 'EA' at 5 mg of a combination product", medication_dispense(concept("Hydrocodone-acetaminophen 5-325 mg tablet"), handed_over=day(0), days_supply=None, quantity={"value": 120, "unit": "EA"}, dosageInstruction=every(6, mg(5))), BY_DATES, 0, AT_LEAST, 0),
    Case("dispense of 120 'EA' at 1 tablet every 6 h", medication_dispense(OXY, handed_over=day(0), days_supply=None, quantity={"value": 120, "unit": "EA"}, dosageInstruction=every(6, tablets(1))), BY_DATES, 29),
    Case("fentanyl 72-hour patch given", medication_administration(concept("72 HR fentanyl 0.025 MG/HR Transdermal System"), given=day(0)), BY_DATES, 2),
    Case("BuTrans 7-day patch given", medication_administration(concept("BuTrans 10 mcg/hr patch"), given=day(0)), BY_DATES, 6),
    Case("depot buprenorphine injection given", medication_administration(concept("Sublocade 300 mg/1.5 mL"), given=day(0)), BY_DATES, 30),
    Case("buprenorphine implant inserted", medication_administration(concept("Probuphine implant"), given=day(0)), BY_DATES, 182),
    Case("hydromorphone infusion with a start and no end", medication_administration(concept("HYDROmorphone PCA infusion"), given=None, effectivePeriod={"start": day(0)}), BY_DATES, 0, AT_LEAST, 0),
    Case("dispense dated only by whenPrepared", {**medication_dispense(OXY, handed_over=day(0), days_supply=5), "whenHandedOver": None, "whenPrepared": day(0)}, BY_DATES, 4),
    Case("dispense with no date at all", {**medication_dispense(OXY, handed_over=day(0), days_supply=5), "whenHandedOver": None}, BY_DATES, None, UNKNOWN),
    *(Case(f"dispense {s}", medication_dispense(OXY, status=s, handed_over=day(0), days_supply=30), NEVER)
      for s in ("preparation", "in-progress", "on-hold", "cancelled", "declined")),
    # MedicationAdministration ------------------------------------------------------------------
    *(Case(f"administration {s}, given", medication_administration(OXY, status=s, given=day(0)), BY_DATES, 0) for s in ("completed", "stopped", "unknown")),
    Case("administration completed over a period", medication_administration(OXY, given=None, effectivePeriod={"start": day(0), "end": day(1)}), BY_DATES, 1),
    Case("administration with no date", medication_administration(OXY, given=None), BY_DATES, None, UNKNOWN),
    Case("administration not-done", medication_administration(OXY, status="not-done", given=day(0)), NEVER),
]  # fmt: skip


def on(offset: int) -> date:
    return S + timedelta(days=offset)
