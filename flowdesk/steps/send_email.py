"""send_email: send a message over SMTP (STARTTLS or SSL), everything templated.

``credential`` names a stored secret ``{host, port, username, password, starttls, ssl}``;
inline fields override it. Output ``{message_id, accepted}``. Connection errors and 4xx SMTP
replies are retriable; a refused recipient or bad login is not. ``to``, ``cc`` and ``bcc``
take a list or a plain string of comma-separated addresses.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, make_msgid
from typing import Any

from pydantic import Field, field_validator, model_validator

from flowdesk.engine.context import StepContext
from flowdesk.engine.registry import CatalogEntry, StepType
from flowdesk.model.errors import StepConfigError, StepError
from flowdesk.steps._base import StepConfig, credential

__all__ = ["STEP", "SendEmailConfig"]


class SendEmailConfig(StepConfig):
    credential: str | None = Field(None, description="stored SMTP login")
    host: str | None = None
    port: int | None = Field(None, gt=0, lt=65536)
    username: str | None = None
    password: str | None = Field(None, description="e.g. {{ secrets.SMTP_PASSWORD }}")
    starttls: bool | None = None
    ssl: bool | None = Field(None, description="SMTP over SSL (port 465)")
    sender: str = Field(alias="from", min_length=3)
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    bcc: list[str] = Field(default_factory=list)
    subject: str = ""
    text: str | None = None
    html: str | None = None
    timeout_seconds: float = Field(30.0, gt=0)

    model_config = StepConfig.model_config | {"populate_by_name": True}

    @field_validator("to", "cc", "bcc", mode="before")
    @classmethod
    def _addresses(cls, value: Any) -> Any:
        """A plain string, or each string of a list, is one address or a comma-separated
        list of them (``"a@x, B <b@y>"``)."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            return value
        out: list[Any] = []
        for item in items:
            if not isinstance(item, str) or "{{" in item:  # split once rendered, at run time
                out.append(item)
            else:
                for name, address in getaddresses([item]):
                    if address and "@" not in address:
                        raise ValueError(f"'{address}' is not an email address (put a display "
                                         f"name that has a comma in quotes)")
                    if address:
                        out.append(formataddr((name, address)))
        return out

    @model_validator(mode="after")
    def _has_body(self) -> SendEmailConfig:
        if self.text is None and self.html is None:
            raise ValueError("set 'text' and/or 'html'")
        return self


def _settings(config: SendEmailConfig, ctx: StepContext) -> dict[str, Any]:
    cred = credential(ctx, config.credential, "password") if config.credential else {}
    out = {key: getattr(config, key) if getattr(config, key) is not None else cred.get(key)
           for key in ("host", "port", "username", "password", "starttls", "ssl")}
    if not out["host"]:
        raise StepConfigError("set the SMTP 'host' (or a 'credential' that has one)")
    out["port"] = int(out["port"] or (465 if out["ssl"] else 587 if out["starttls"] else 25))
    return out


def _send(settings: dict[str, Any], message: EmailMessage, recipients: list[str],
          timeout: float) -> dict[str, Any]:
    try:
        if settings["ssl"]:
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings["host"], settings["port"],
                                                    timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings["host"], settings["port"], timeout=timeout)
        with client:
            if settings["starttls"]:
                client.starttls(context=ssl.create_default_context())
            if settings["username"]:
                client.login(settings["username"], settings["password"] or "")
            refused = client.send_message(message, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise StepError(f"SMTP login refused: {exc.smtp_code} {exc.smtp_error!r}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise StepError(f"every recipient was refused: {list(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        raise StepError(f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}",
                        retriable=400 <= exc.smtp_code < 500) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise StepError(f"cannot send through {settings['host']}:{settings['port']}: {exc}",
                        retriable=True) from None
    accepted = [r for r in recipients if r not in refused]
    return {"message_id": message["Message-ID"], "accepted": accepted,
            "refused": sorted(refused)}


async def run(config: SendEmailConfig, ctx: StepContext) -> dict[str, Any]:
    settings = _settings(config, ctx)
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    if config.cc:
        message["Cc"] = ", ".join(config.cc)
    message["Subject"] = config.subject
    domain = config.sender.rsplit("@", 1)[-1].strip("> ") or None
    message["Message-ID"] = make_msgid(idstring=ctx.step_id, domain=domain)
    if config.text is not None:
        message.set_content(config.text)
    if config.html is not None:
        if config.text is None:
            message.set_content(config.html, subtype="html")
        else:
            message.add_alternative(config.html, subtype="html")
    recipients = [*config.to, *config.cc, *config.bcc]
    return await asyncio.to_thread(_send, settings, message, recipients,
                                   config.timeout_seconds)


STEP = StepType(
    catalog=CatalogEntry(
        type="send_email", label="Send email", category="Integrations", icon="email",
        description="Sends an email through an SMTP server.",
        outputs=("message_id", "accepted"),
    ),
    config_model=SendEmailConfig,
    handler=run,
)
