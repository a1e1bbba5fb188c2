"""Shared fixtures of the central server's tests: a PostgreSQL schema of one's own, and a clock.

``DESKUNIT_TEST_PG_URL`` names a PostgreSQL server (CI starts one); tests that need it are skipped
without it. Each test works in a schema of its own (dropped afterwards), so any database will do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from central.testing import temporary_schema

PG_URL = os.environ.get("DESKUNIT_TEST_PG_URL")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A database URL whose search_path is a fresh schema, dropped on exit."""
    if not PG_URL:
        pytest.skip("set DESKUNIT_TEST_PG_URL=postgresql://... to test the PostgreSQL backend")
    pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]' for the PostgreSQL backend")
    with temporary_schema(PG_URL) as url:
        yield url
