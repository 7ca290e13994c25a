"""The engine's one error type for everything a user can fix: a clear message, no trace."""


class ModelError(Exception):
    """A model file is missing, damaged or does not match this version of nib."""


class SettingsError(ValueError):
    """A setting has the wrong type or value."""


class Cancelled(Exception):
    """The request was cancelled, or superseded by a newer edit, while it ran."""
