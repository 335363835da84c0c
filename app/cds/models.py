"""CDS Hooks 2.0 wire models: lenient for what we read, strict for what we send.

Responses never carry ``null`` or empty values (spec: "JSON elements SHALL NOT
be null or empty"), except ``{"cards": []}``; serialise with ``exclude_none``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FhirAuthorization(Lenient):
    access_token: str = Field(min_length=1)
    token_type: str | None = None
    expires_in: int | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class HookRequest(Lenient):
    hook: str = Field(min_length=1)
    hookInstance: str = Field(min_length=1)
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coding(Strict):
    system: str
    code: str
    display: str | None = None


class Source(Strict):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Link(Strict):
    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Action(Strict):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class Suggestion(Strict):
    label: str
    uuid: str
    isRecommended: bool | None = None
    actions: list[Action] | None = None


class Card(Strict):
    uuid: str
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CardsResponse(Strict):
    cards: list[Card]


class ServiceDescription(Strict):
    hook: str
    title: str
    description: str
    id: str
    prefetch: dict[str, str]
    usageRequirements: str | None = None


class DiscoveryResponse(Strict):
    services: list[ServiceDescription]


class FeedbackReceived(Strict):
    received: int  # feedback items stored (retries of stored items included)


class OperationOutcomeIssue(Strict):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str  # FHIR issue-type code (invalid, not-found, too-long, ...)
    diagnostics: str


class OperationOutcome(Strict):
    """The body of every error answer except the bare 401 (CDS Hooks 3.0 ballot; FHIR R4)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {
                            "severity": "error",
                            "code": "invalid",
                            "diagnostics": "context.patientId is required and must be a non-empty string",
                        }
                    ],
                }
            ]
        },
    )

    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[OperationOutcomeIssue] = Field(min_length=1)
