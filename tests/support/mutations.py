"""Single-field type mutations: one field of a real, valid body replaced by a value of another JSON type.

Every field at every depth is a target (object members and list items alike): the
protocol fields, each prefetch resource's fields down to a coding's ``code``, the
draft orders, ``fhirAuthorization``, and every field of a feedback item. The
replacement is of a *different* JSON type than the original, drawn from values that
have broken parsers before: empty containers, containers of the wrong shape, huge
and negative numbers, the float limit, booleans where numbers are expected.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]

# Representatives of each JSON type. Several per type: `[]` and `[{}]` fail differently,
# as do 0, 2**64 (too large for a C long) and 1e308 (finite, but overflows arithmetic).
REPLACEMENTS: dict[str, tuple[Any, ...]] = {
    "null": (None,),
    "boolean": (True, False),
    "integer": (0, -1, 7, 2**63 - 1, -(2**63), 2**64),
    "number": (1.5, -0.5, 1e308, -1e308, 5e-324),
    "string": ("", "x", " ", "9999-12-31T23:59:59-01:00", "Medication/../../escape"),
    "array": ([], [None], [{}], ["x"], [[]]),
    "object": ({}, {"resourceType": []}, {"resourceType": {}}, {"x": 1}, {"reference": 7}),
}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every field of ``value``, depth first: object members and list items."""
    found: list[Path] = []
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return found
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def get(value: Any, path: Path) -> Any:
    for key in path:
        value = value[key]
    return value


def replaced(body: Any, path: Path, replacement: Any) -> Any:
    mutated = copy.deepcopy(body)
    holder = get(mutated, path[:-1])
    holder[path[-1]] = copy.deepcopy(replacement)
    return mutated


def other_types(value: Any) -> list[Any]:
    own = json_type(value)
    return [r for kind, values in REPLACEMENTS.items() if kind != own for r in values]


@dataclass(frozen=True)
class Mutation:
    """Body number ``body`` of a tuple of bodies, with the field at ``path`` set to ``value``."""

    body: int
    path: Path
    value: Any

    def original(self, bodies: tuple[str, ...]) -> Any:
        return json.loads(bodies[self.body])

    def apply(self, bodies: tuple[str, ...]) -> Any:
        return replaced(self.original(bodies), self.path, self.value)

    def __repr__(self) -> str:  # what hypothesis prints for a failing case: short, not the whole body
        return f"Mutation(body {self.body}: {'.'.join(str(p) for p in self.path)} = {json.dumps(self.value)[:80]})"


@st.composite
def type_mutations(draw: st.DrawFn, bodies: tuple[str, ...]) -> Mutation:
    """One field of one of ``bodies`` (JSON text) to be replaced by a value of another JSON type.

    The field is drawn by its *name* first (``prefetch.medicationRequests.entry.*.resource.status``),
    then one occurrence of it: a record of 50 resources would otherwise leave the dozen
    protocol fields almost never drawn.
    """
    index = draw(st.integers(min_value=0, max_value=len(bodies) - 1))
    fields = _fields_of(bodies[index])
    occurrences = fields[draw(st.sampled_from(sorted(fields)))]
    path = draw(st.sampled_from(occurrences))
    value = draw(st.sampled_from(other_types(get(json.loads(bodies[index]), path))))
    return Mutation(index, path, value)


def field_name(path: Path) -> str:
    """The path with list positions as ``*``: the same field of every entry has one name."""
    return ".".join("*" if isinstance(p, int) else p for p in path)


@cache
def _fields_of(text: str) -> dict[str, tuple[Path, ...]]:
    grouped: dict[str, list[Path]] = {}
    for path in paths(json.loads(text)):
        grouped.setdefault(field_name(path), []).append(path)
    return {name: tuple(found) for name, found in grouped.items()}
