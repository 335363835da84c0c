"""Typed dependencies: what a route needs from the running app, built once in ``create_app``
and its lifespan, handed to routes as parameters an IDE and mypy can follow.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a worker thread,
a hop per dependency per call for what is an attribute read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.feedback.identity import CardIdentity
from app.feedback.store import FeedbackStore
from app.ops.metrics import Metrics
from app.services.pipeline import Pipeline
from app.settings import Settings


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline  # built in the lifespan, with the FHIR client
    return pipeline


async def _feedback_store(request: Request) -> FeedbackStore:
    store: FeedbackStore = request.app.state.feedback_store
    return store


async def _identity(request: Request) -> CardIdentity:
    identity: CardIdentity = request.app.state.identity
    return identity


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
FeedbackStoreDep = Annotated[FeedbackStore, Depends(_feedback_store)]
CardIdentityDep = Annotated[CardIdentity, Depends(_identity)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
