"""Personal data kept out of the store: authors become keyed pseudonyms, contact details in
free text are masked before anything is written."""

from __future__ import annotations

import hashlib
import hmac
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+33 6 12 34 56 78) and national (06 12 34 56 78, 06.12.34.56.78) numbers;
# at least 9 digits so that years, prices and durations survive.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,4})?\b")


def _mask_phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group())
    return "[téléphone]" if digits >= 9 else match.group()


def redact(text: str) -> str:
    """Mask e-mail addresses, phone numbers and IBANs in ``text``."""
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    return _PHONE.sub(_mask_phone, text)


def pseudonym(author: str | None, key: str) -> str | None:
    """A stable, non-reversible pseudonym of ``author`` (HMAC-SHA256 with the installation key)."""
    if not author or not author.strip():
        return None
    normalized = " ".join(author.lower().split())
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()[:32]
