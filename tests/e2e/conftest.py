"""Fixtures for the real-process journeys: one X desktop for the session, a fresh home folder
and an ``App`` per test, and a screenshot of the screen whenever a journey fails.

With ``CI=true`` a missing X tool fails the run instead of skipping it: CI installs them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import App, Desktop, missing_tools


@pytest.fixture(scope="session")
def desktop() -> Iterator[Desktop]:
    missing = missing_tools()
    if missing:
        message = (f"the real-process journeys need {', '.join(missing)} (apt: xvfb xauth "
                   "openbox xdotool imagemagick x11-utils)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    screen = Desktop().start()
    yield screen
    screen.stop()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "user"
    folder.mkdir()
    return folder


@pytest.fixture
def app(desktop: Desktop, home: Path, request: pytest.FixtureRequest) -> Iterator[App]:
    the_app = App(desktop, home, request.node.name)
    yield the_app
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        try:
            the_app.screenshot("failure")
        except Exception:  # the screenshot is a help, never a second failure
            pass
    the_app.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
