"""Where messages go: an SMTP server for e-mail and an HTTP gateway for SMS, or, when either
is not configured, a local log file in the data directory, so no message is ever dropped.

Settings come from the environment (the README lists them):

``BMS_SMTP_HOST``      SMTP server; unset means e-mails go to ``<data dir>/notifications/email.log``
``BMS_SMTP_PORT``      default 587
``BMS_SMTP_FROM``      the From header, default ``bms box office <noreply@localhost>``
``BMS_SMTP_USER``      log in with this user (and ``BMS_SMTP_PASSWORD``) when set
``BMS_SMTP_STARTTLS``  upgrade the connection with STARTTLS, default true
``BMS_SMS_PROVIDER``   ``log`` (default: ``<data dir>/notifications/sms.log``) or the http(s)
                       URL of a gateway that takes ``POST {"to": ..., "text": ...}``

``aiosmtplib`` is not a dependency, so SMTP runs on the standard library's ``smtplib`` in a
worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

import httpx

from server.contracts.notifications import MessageChannel
from server.settings import SettingsError

log = logging.getLogger("bms.notifications")

SMTP_TIMEOUT_SECONDS = 15
GATEWAY_TIMEOUT_SECONDS = 10
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "bms box office <noreply@localhost>"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    sms_provider: str = "log"


def load_settings(environ: Mapping[str, str] | None = None) -> DeliverySettings:
    """The delivery settings from ``BMS_SMTP_*`` and ``BMS_SMS_PROVIDER``; SettingsError
    names the variable and says what to write when one cannot be used."""
    env = os.environ if environ is None else environ

    def value(name: str) -> str | None:
        return env.get(name, "").strip() or None

    defaults = DeliverySettings()
    settings = DeliverySettings(
        smtp_host=value("BMS_SMTP_HOST"),
        smtp_port=_port(value("BMS_SMTP_PORT"), defaults.smtp_port),
        smtp_from=value("BMS_SMTP_FROM") or defaults.smtp_from,
        smtp_user=value("BMS_SMTP_USER"),
        smtp_password=value("BMS_SMTP_PASSWORD"),
        smtp_starttls=_flag(value("BMS_SMTP_STARTTLS"), defaults.smtp_starttls),
        sms_provider=value("BMS_SMS_PROVIDER") or defaults.sms_provider,
    )
    if settings.smtp_password and not settings.smtp_user:
        raise SettingsError("BMS_SMTP_PASSWORD is set without BMS_SMTP_USER; set both or neither")
    if settings.sms_provider != "log" and not settings.sms_provider.startswith(
        ("http://", "https://")
    ):
        raise SettingsError(
            f"BMS_SMS_PROVIDER={settings.sms_provider!r} is unknown; use 'log' or the "
            "http(s) URL of your SMS gateway"
        )
    return settings


def _port(text: str | None, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise SettingsError(f"BMS_SMTP_PORT={text!r} is not a port; give 1-65535, e.g. 587")
    return int(text)


def _flag(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    if text.lower() not in TRUE_WORDS | FALSE_WORDS:
        raise SettingsError(f"BMS_SMTP_STARTTLS={text!r} is not true or false")
    return text.lower() in TRUE_WORDS


@dataclass(frozen=True, slots=True)
class Outgoing:
    to: str
    subject: str
    body: str
    date: datetime


class DeliveryFailed(Exception):
    """A message did not go out. ``permanent`` means trying again cannot help (the server
    refused the address); otherwise the worker retries later."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Provider(Protocol):
    async def send(self, message: Outgoing) -> None: ...


class SmtpMailer:
    def __init__(self, host: str, settings: DeliverySettings) -> None:
        self.host = host
        self.settings = settings

    async def send(self, message: Outgoing) -> None:
        await asyncio.to_thread(self._deliver, self._compose(message))

    def _compose(self, message: Outgoing) -> EmailMessage:
        sender_domain = parseaddr(self.settings.smtp_from)[1].rpartition("@")[2]
        email = EmailMessage()
        email["From"] = self.settings.smtp_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(message.date)
        # A domain of our own: make_msgid() would otherwise ask DNS for this host's name.
        email["Message-ID"] = make_msgid(domain=sender_domain or "localhost")
        email.set_content(message.body)
        return email

    def _deliver(self, email: EmailMessage) -> None:
        settings, where = self.settings, f"mail server {self.host}:{self.settings.smtp_port}"
        try:
            with smtplib.SMTP(self.host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(
                f"{where} refused the address: {exc.recipients}",
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"{where}: {exc or type(exc).__name__}") from exc


class SmsGateway:
    def __init__(self, url: str) -> None:
        self.url = url
        # Only the host goes into errors and logs: the URL may carry a token.
        self.name = f"SMS gateway {httpx.URL(url).host}"

    async def send(self, message: Outgoing) -> None:
        try:
            async with httpx.AsyncClient(timeout=GATEWAY_TIMEOUT_SECONDS) as http:
                answer = await http.post(self.url, json={"to": message.to, "text": message.body})
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{self.name}: {exc!r}") from exc
        if answer.is_error:
            raise DeliveryFailed(
                f"{self.name} answered {answer.status_code}: {answer.text[:200]}",
                permanent=answer.status_code in (400, 422),
            )


class FileDrop:
    """Appends each message to a local file instead of sending it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: Outgoing) -> None:
        entry = (
            f"--- {message.date.isoformat()} to {message.to}\n"
            f"Subject: {message.subject}\n\n{message.body.rstrip()}\n\n"
        )
        await asyncio.to_thread(self._append, entry)
        log.info("no provider configured: message to %s written to %s", message.to, self.path)

    def _append(self, entry: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(entry)
        except OSError as exc:
            raise DeliveryFailed(f"could not write {self.path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Providers:
    email: Provider
    sms: Provider

    def for_channel(self, channel: str) -> Provider:
        return self.sms if channel == MessageChannel.SMS else self.email


def build_providers(settings: DeliverySettings, drop_dir: Path) -> Providers:
    """SMTP and the SMS gateway when configured; the log files in ``drop_dir`` otherwise."""
    email: Provider = FileDrop(drop_dir / "email.log")
    if settings.smtp_host:
        email = SmtpMailer(settings.smtp_host, settings)
    sms: Provider = FileDrop(drop_dir / "sms.log")
    if settings.sms_provider != "log":
        sms = SmsGateway(settings.sms_provider)
    return Providers(email=email, sms=sms)
