"""A session's settings as its completion service's configuration: which models, and how they are asked."""

from __future__ import annotations

from dataclasses import replace

from nib.model.completion.request import Kind
from nib.model.runtime.artifacts import default_model
from nib.model.service.config import Config
from nib.model.service.exclude import Exclude
from nib.model.service.hosts import ModelKey

from .limits import Limits
from .settings import Settings
from .trust import engine_refused, jedi_environment


def statement_key(settings: Settings) -> ModelKey:
    """The statement's model: the engine's, if one is set (and not refused), else the local one."""
    e = settings.engine
    if e.api == "openai" and e.url and engine_refused(e) is None:
        return ModelKey(e.url, "", 0, e.model, e.api_key_env, Kind.HTTP)
    return local_key(settings)


def local_key(settings: Settings) -> ModelKey:
    """The local model: `model.path`, else the best imported one whose calibrated statement fits
    the user's `statement.budgetMs` here (`runtime/choice.py`)."""
    m = settings.model
    return ModelKey(m.path or default_model(settings.statement.budget_ms, m.threads), m.device, m.threads)


def list_key(settings: Settings) -> ModelKey:
    """The list's model: `list.model`, else the statement's local one (the list never goes to an engine).

    A model of its own runs on the CPU whatever `model.device` says: it is chosen for the list's
    latency on a CPU, and the bundled model has no torch checkpoint to run on a GPU.
    """
    local = local_key(settings)
    return ModelKey(settings.listing.model, "cpu", local.threads) if settings.listing.model else local


def config(settings: Settings, limits: Limits) -> Config:
    s = settings
    statement, listing = statement_key(s), list_key(s)
    if statement != listing and statement.device == "cpu":  # its own model on the CPU: the list's goes first
        statement = replace(statement, yields=True)
    return Config(
        statement=statement,
        listing=listing,
        options=s.options(),
        engine=s.engine_options(),
        jedi=s.jedi.enable,
        jedi_ms=limits.jedi(s.jedi.budget_ms),
        name_jedi_ms=limits.jedi(s.jedi.name_budget_ms),
        jedi_environment=jedi_environment(s.jedi.environment)[0],
        project=s.project(),
        exclude=Exclude(s.exclude),
    )
