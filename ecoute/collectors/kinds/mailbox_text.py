"""What a person wrote in an email: the text part (or the HTML one reduced to text), without
the quoted message it replies to, the signature, or the "Sent from my phone" line; and the list
of attachments, which are not read."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from ecoute.collectors.text import html_to_text


# Lines that open the quoted original of a reply or a forward: everything after is not
# the sender's own words.
QUOTE_HEADERS = (
    re.compile(r"^\s*Le\b.{4,300}\ba\s+écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*On\b.{4,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*(?:original message|message d'origine|message original|"
               r"forwarded message|message transféré)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted headers
)
# Outlook quotes without a preamble: a "De :"/"From:" line followed by "Envoyé :"/"Sent:".
OUTLOOK_FROM = re.compile(r"^\s*\*?(?:de|from)\s*:\*?\s", re.IGNORECASE)
OUTLOOK_SENT = re.compile(r"^\s*\*?(?:envoyé|sent|date)\s*:\*?\s", re.IGNORECASE)
MOBILE_FOOTER = re.compile(
    r"^\s*(?:envoyé (?:de|depuis) mon|sent from my|get outlook for|télécharger outlook)\b",
    re.IGNORECASE,
)


@dataclass
class MailContent:
    text: str
    subject: str | None
    sender: str | None
    published_at: datetime | None
    message_id: str | None
    in_reply_to: str | None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    body_type: str = "plain"


def parse_message(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def strip_reply(text: str) -> str:
    """The sender's own words: quoted lines, the quoted original and the signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or line.strip() == "__":
            break  # signature delimiter (RFC 3676 "-- ")
        following = lines[index + 1] if index + 1 < len(lines) else ""
        pair = f"{line} {following}"
        if any(p.match(line) for p in QUOTE_HEADERS):
            break
        # Clients wrap long "Le lun. 12 mars 2026 à 10:00, Jean <j@x.fr> a\nécrit :" lines.
        if line.strip() and not line.lstrip().startswith(">") \
                and any(p.match(pair) for p in QUOTE_HEADERS[:2]):
            break
        if OUTLOOK_FROM.match(line) and any(OUTLOOK_SENT.match(n) for n in lines[index + 1:index + 4]):
            break
        if line.lstrip().startswith(">") or MOBILE_FOOTER.match(line):
            continue
        kept.append(line)
    paragraphs = re.split(r"\n\s*\n", "\n".join(kept))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())




def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, ValueError):
        # An unknown or lying charset: decode leniently rather than lose the message.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) \
            else str(payload)
    return content if isinstance(content, str) else ""


def _date(message: EmailMessage) -> datetime | None:
    value = message.get("Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError):  # a malformed header the policy cannot parse
        value = message.get_all(name, failobj=[None])[0] if hasattr(message, "get_all") else None
    return " ".join(str(value).split()) if value else None


def mail_content(message: EmailMessage) -> MailContent:
    body = message.get_body(preferencelist=("plain", "html"))
    text, body_type = "", "plain"
    if body is not None:
        text = _part_text(body)
        if body.get_content_subtype() == "html":
            text, body_type = html_to_text(text, paragraphs=True, drop_quotes=True), "html"
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        attachments.append({
            "filename": part.get_filename() or None,
            "content_type": part.get_content_type(),
            "size": len(payload) if isinstance(payload, bytes) else None,
        })
    senders = getaddresses([_header(message, "From") or ""])
    sender = senders[0][1].lower() if senders and senders[0][1] else None
    return MailContent(
        text=strip_reply(text), subject=_header(message, "Subject"), sender=sender,
        published_at=_date(message), message_id=_header(message, "Message-ID"),
        in_reply_to=_header(message, "In-Reply-To"), attachments=attachments,
        body_type=body_type,
    )
