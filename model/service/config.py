"""A client's settings as the completion service takes them (made by `server/configure.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from nib.model.completion.engine import EngineOptions
from nib.model.completion.request import Options

from .exclude import Exclude
from .hosts import ModelKey
from .project import ProjectOptions


@dataclass(frozen=True)
class Config:
    """How a client's completions are made: its models, its options, its waits for jedi."""

    statement: ModelKey
    listing: ModelKey
    options: Options
    engine: EngineOptions
    jedi: bool
    jedi_ms: int  # after `.` and in imports
    name_jedi_ms: int  # at a name elsewhere
    jedi_environment: str = ""  # the interpreter or virtual environment whose packages jedi reads; "": nib's own
    project: ProjectOptions = ProjectOptions()
    exclude: Exclude = Exclude()
