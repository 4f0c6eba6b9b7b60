"""Signed links: ``<id>.<HMAC-SHA256 of the id and the row's salt>``, so that a link works
without signing in, cannot be forged for another row, and dies with its row (a new one has a
new salt). The unsubscribe links of digests sign the bare id; other links (a volunteer's
accept and decline links, ``backup_notices``) sign it after a purpose of their own, so that
no link stands for another kind."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.orm import Session

from ecoute.config.settings import Settings
from ecoute.errors import NotFound
from ecoute.store.models import DigestSubscription

#: Characters of the signature kept in a link (24 bytes: 192 bits, beyond guessing).
SIGNATURE_CHARS = 32


def signing_key(settings: Settings) -> bytes:
    """``digest_secret``, or a key derived from the pseudonym key (secret in production) so
    that an installation needs no extra secret to send digests."""
    if settings.digest_secret:
        return settings.digest_secret.encode()
    return hmac.new(settings.pseudonym_key.encode(), b"ecoute digest unsubscribe links",
                    hashlib.sha256).digest()


def sign(message: str, key: bytes) -> str:
    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:SIGNATURE_CHARS]


def signed_token(row_id: int, salt: str, key: bytes, purpose: str = "") -> str:
    return f"{row_id}.{sign(f'{purpose}{row_id}:{salt}', key)}"


def token_id(token: str) -> tuple[int, str] | None:
    """The id and signature of a token; None when it cannot be one."""
    number, _, signature = token.partition(".")
    if not number.isdigit() or len(number) > 18 or not signature:
        return None
    return int(number), signature


def signature_matches(row_id: int, salt: str, signature: str, key: bytes,
                      purpose: str = "") -> bool:
    expected = sign(f"{purpose}{row_id}:{salt}", key)
    return hmac.compare_digest(expected.encode(), signature.encode())


def _signature(subscription_id: int, salt: str, key: bytes) -> str:
    return sign(f"{subscription_id}:{salt}", key)


def unsubscribe_token(subscription: DigestSubscription, key: bytes) -> str:
    return f"{subscription.id}.{_signature(subscription.id, subscription.token_salt, key)}"


def unsubscribe_url(base_url: str, subscription: DigestSubscription, key: bytes) -> str:
    return f"{base_url.rstrip('/')}/unsubscribe/{unsubscribe_token(subscription, key)}"


def subscription_of(session: Session, token: str, key: bytes) -> DigestSubscription:
    """The subscription a token was signed for; NotFound for anything else (the same answer
    for a bad signature and an unknown id, so that ids cannot be probed)."""
    invalid = NotFound("this unsubscribe link is not valid",
                       hint="use the link of the latest e-mail, or ask an administrator to "
                       "remove the subscription with `ecoute digest unsubscribe`")
    parsed = token_id(token)
    if parsed is None:
        raise invalid
    subscription = session.get(DigestSubscription, parsed[0])
    if subscription is None \
            or not signature_matches(subscription.id, subscription.token_salt, parsed[1], key):
        raise invalid
    return subscription
