"""Scheduler fixtures: the reminder tests' databases, accounts and recording trigger, for the jobs and
the leader lease."""

from __future__ import annotations

from tests.db.conftest import postgres_base_url, postgres_url  # noqa: F401 - fixtures
from tests.outreach.conftest import accounts, factory, trigger  # noqa: F401 - fixtures
