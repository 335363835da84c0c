"""Readings of repeated FHIR pieces are memoised by content (app/fhir/memo.py): the same
answers as reading afresh, bounded, and never shared between pieces that differ."""

from __future__ import annotations

import copy

import pytest

from app.domain.record import MedicationSource
from app.fhir import parse
from app.fhir.assembly import _medication_index
from app.fhir.memo import MAX_KEY_BYTES, Memo, content_key
from app.fhir.parse import condition_entry, medication_use
from devtools.fixtures import FIXTURE_TODAY, patient_resources, patient_slugs
from tests.support.fhir import OXYCODONE_5MG, medication_dispense, medication_request

_SOURCES = {source.value: source for source in MedicationSource}


def _clear_memos() -> None:
    for memo in (parse._products, parse._daily_uses, parse._dose_steps, parse._injectables, parse._diagnoses):
        memo.clear()


def test_keys_tell_apart_what_json_tells_apart() -> None:
    assert content_key({"value": 1}) != content_key({"value": 1.0}) != content_key({"value": True})
    assert content_key({"code": "7243"}) != content_key({"code": 7243})
    assert content_key({"a": 1}, None) == content_key({"a": 1}, None)


def test_pieces_too_large_or_not_json_are_read_every_time_not_kept() -> None:
    assert content_key({"text": "x" * MAX_KEY_BYTES}) is None
    assert content_key({"value": 2**70}) is None  # a FHIR server's integer beyond 64 bits
    memo: Memo[int] = Memo(4)
    reads = []
    for _ in range(3):
        memo.get(None, lambda: reads.append(1) or len(reads))
    assert len(reads) == 3 and len(memo) == 0


def test_a_memo_keeps_at_most_its_size_dropping_the_oldest() -> None:
    memo: Memo[str] = Memo(2)
    for key in (b"a", b"b", b"c"):
        memo.get(key, lambda key=key: key.decode())
    assert len(memo) == 2
    assert memo.get(b"a", lambda: "read again") == "read again"  # dropped, so read afresh
    assert memo.get(b"c", lambda: "not read") == "c"


@pytest.mark.parametrize("slug", patient_slugs())
def test_every_fixture_record_reads_the_same_with_and_without_memoised_readings(slug: str) -> None:
    resources = patient_resources(slug, FIXTURE_TODAY)
    medications = _medication_index([resources])

    def read_all() -> list[object]:
        out: list[object] = []
        for resource in copy.deepcopy(resources):  # other objects, same content
            if (source := _SOURCES.get(resource["resourceType"])) is not None:
                out.append(medication_use(resource, source, medications))
            elif resource["resourceType"] == "Condition":
                out.append(condition_entry(resource))
        return out

    _clear_memos()
    cold = read_all()
    warm = read_all()  # every piece read before: all from the memos
    assert warm == cold


def test_the_same_drug_written_alike_in_two_records_is_read_once() -> None:
    _clear_memos()
    first = medication_use(medication_request(OXYCODONE_5MG, id="a"), MedicationSource.request, {})
    second = medication_use(
        medication_dispense(OXYCODONE_5MG, handed_over="2026-11-01", days_supply=7, id="b"),
        MedicationSource.dispense,
        {},
    )
    assert first is not None and second is not None
    assert first.drug is second.drug and len(parse._products) == 1


def test_a_stated_supply_in_days_leaves_dosing_unread_and_without_it_dosing_is_read() -> None:
    dosing = [
        {
            "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
        }
    ]
    with_days = medication_dispense(
        OXYCODONE_5MG,
        handed_over="2026-11-01",
        days_supply=7,
        quantity={"value": 28, "unit": "tablet"},
        dosageInstruction=dosing,
    )
    without = medication_dispense(
        OXYCODONE_5MG,
        handed_over="2026-11-01",
        days_supply=None,
        quantity={"value": 28, "unit": "tablet"},
        dosageInstruction=dosing,
    )
    read_with = medication_use(with_days, MedicationSource.dispense, {})
    read_without = medication_use(without, MedicationSource.dispense, {})
    assert read_with is not None and read_without is not None
    assert read_with.supply.supply_days == 7 and read_with.supply.daily is None and read_with.supply.quantity is None
    assert read_without.supply.daily is not None and read_without.supply.quantity is not None
