"""What the server refuses of an engine's settings before any code is sent, and what it warns of.

A key goes only over https, or over plain http to this machine: anything else would put the
user's key on the network in the clear, so the statement stays local instead.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlparse

from nib.model.listing.site_paths import site_paths


def engine_refused(e) -> str | None:
    """Why the engine settings e must not be used (the statement then comes from the local model), or None."""
    if e.api != "openai" or not e.url:
        return None
    url = urlparse(e.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return (
            f"nib: engine.url must be an http:// or https:// URL, got {e.url!r}: statements come from the local model"
        )
    if e.api_key_env and url.scheme == "http" and not _loopback(url.hostname):
        return (
            f"nib: engine.apiKeyEnv is set but engine.url is plain http to {url.hostname}, which is not this "
            "machine: the key would cross the network in the clear. Use https; statements come from the local "
            "model"
        )
    return None


def jedi_environment(path: str) -> tuple[str, str | None]:
    """The interpreter or virtual environment whose packages jedi reads (`jedi.environment`: read
    as files, never run, `site_paths`), and why the setting's value is not used, if it is not ("":
    nib's own packages). Only an absolute path (`~` is the user's home): a relative one would be
    found inside whatever workspace nib is started in.

    Example: jedi_environment("") == ("", None) and jedi_environment(".venv")[0] == ""
    """
    if not path:
        return "", None
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        return "", f"nib: jedi.environment must be an absolute path, got {path!r}: jedi reads nib's own packages"
    if not os.path.exists(path):
        return "", f"nib: jedi.environment {path!r} does not exist: jedi reads nib's own packages"
    if not site_paths(path):
        return "", (
            f"nib: jedi.environment {path!r} has no site-packages folder (a virtual environment's folder or "
            "its bin/python is expected): jedi reads nib's own packages"
        )
    return path, None


def engine_problems(e) -> list[str]:
    """What is wrong with the engine settings e, before any request: each a warning."""
    if e.api != "openai":
        return []
    if not e.url:
        return ["nib: engine.api is openai but engine.url is empty: statements come from the local model"]
    refused = engine_refused(e)
    if refused:
        return [refused]
    if e.api_key_env and e.api_key_env not in os.environ:
        return [
            f"nib: engine.apiKeyEnv names {e.api_key_env}, which is not set in nib's environment: requests go "
            "without a key"
        ]
    return []


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
