"""How each channel goes out: email over SMTP, letters as PDF, SMS behind an adapter (none by default).

An adapter's `send` returns normally once the other side has accepted the message, and raises SendError
otherwise, saying whether trying again later may help (`permanent=False`) or not."""

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from html import unescape
from typing import Any, Protocol

from .models import Communication


class SendError(Exception):
    def __init__(self, message: str, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class SmsGateway(Protocol):
    """What a real SMS provider would implement; without one, SMS stay queued in the outbox."""

    def send(self, communication: Communication) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "sequences@localhost"
    timeout: float = 30.0

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> "SmtpSettings":
        """From the app's SMTP_* keys, or the same keys in lower case without the prefix."""
        values = values or {}

        def pick(name: str, default=None):
            for key in (f"SMTP_{name.upper()}", name.lower()):
                if values.get(key) not in (None, ""):
                    return values[key]
            return default

        return cls(host=pick("host"), port=int(pick("port", 25)), username=pick("username"),
                   password=pick("password"), starttls=_flag(pick("starttls", False)),
                   sender=pick("from", "sequences@localhost"), timeout=float(pick("timeout", 30.0)))


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def plain_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip() + "\n"


def email_message(communication: Communication, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr((communication.recipient_name or "", communication.to_address or ""))
    message["Subject"] = communication.subject
    message["Message-ID"] = communication.message_id
    message["Date"] = format_datetime(communication.created_at)
    if communication.html:
        message.set_content(plain_text(communication.body))
        message.add_alternative(communication.body, subtype="html")
    else:
        message.set_content(communication.body)
    return message


class SmtpSender:
    """One connection per delivery pass, opened on the first email and dropped after any error."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        smtp = smtplib.SMTP(settings.host or "localhost", settings.port, timeout=settings.timeout)
        try:
            if self.settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, communication: Communication) -> None:
        message = email_message(communication, self.settings.sender)
        envelope_from = parseaddr(self.settings.sender)[1] or self.settings.sender
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message, from_addr=envelope_from,
                                    to_addrs=[communication.to_address or ""])
        except smtplib.SMTPAuthenticationError as error:
            self.close()  # our configuration, not the recipient: keep trying (up to the attempts limit)
            raise SendError(f"authentification SMTP refusée ({error.smtp_code})", permanent=False) from error
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            code, text = next(iter(error.recipients.values()), (0, b""))
            raise _refused(code, text) from error
        except smtplib.SMTPResponseException as error:
            self.close()
            raise _refused(error.smtp_code, error.smtp_error) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()  # connection refused, timeout, server gone: try again later
            raise SendError(f"serveur SMTP injoignable : {error}", permanent=False) from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _refused(code: int, text) -> SendError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    permanent = 500 <= int(code or 0) < 600
    return SendError(f"refusé par le serveur SMTP : {code} {text}".strip(), permanent=permanent)
