"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mailbox import Mailbox


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """The SMTP server, configured through the same environment variables as production."""
    box = Mailbox()
    box.start()
    monkeypatch.setenv("BMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BMS_SMTP_PORT", str(box.port))
    monkeypatch.setenv("BMS_SMTP_STARTTLS", "false")
    monkeypatch.setenv("BMS_SMTP_FROM", "Test Cinema <tickets@cinema.example.test>")
    monkeypatch.delenv("BMS_SMS_PROVIDER", raising=False)
    yield box
    box.stop()
