"""Conversation scenarios: whole conversations through the web chat route and the real Rasa model,
each checked against what it must (and must not) leave in the database.

Scenarios live in ``tests/conversations/*.yml``; `runner.py` plays them. After the run the pass rate of
the scenarios is printed (``make test`` shows it), so a regression in how the bot holds up with real
debtors is a number, not only a red test.
"""

from __future__ import annotations

from typing import Any

import pytest

SCENARIO_OUTCOMES: dict[str, bool] = {}
KNOWN_GAPS: set[str] = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and item.nodeid.startswith("tests/conversations/"):
        SCENARIO_OUTCOMES[item.nodeid] = report.passed and not hasattr(report, "wasxfail")
        if hasattr(report, "wasxfail"):
            KNOWN_GAPS.add(item.nodeid)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCENARIO_OUTCOMES:
        passed = sum(SCENARIO_OUTCOMES.values())
        total = len(SCENARIO_OUTCOMES)
        terminalreporter.write_line(
            f"Conversation scenarios: {passed} of {total} passed ({passed / total:.0%}); "
            f"{len(KNOWN_GAPS)} known gaps (marked known_gap in the scenario files)"
        )
