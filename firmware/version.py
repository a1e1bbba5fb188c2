"""The unit's version: from the installed package's metadata, which setuptools-scm takes from git tags.

Shown by ``deskunit --version`` and the console's ``status``, and sent as the User-Agent of every
sync request, so a central server can tell which firmware each unit runs.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

#: When there is no installed metadata at all (the sources run without being installed).
UNKNOWN = "0+unknown"


def package_version() -> str:
    try:
        return version("deskunit")
    except PackageNotFoundError:
        return UNKNOWN


def user_agent() -> str:
    return f"deskunit/{package_version()}"
