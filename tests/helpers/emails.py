"""Realistic emails to a town hall, and Maildir/mbox folders holding them."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path


def plain_reply() -> bytes:
    """A user's reply in French: quoted original, signature, phone footer."""
    msg = EmailMessage()
    msg["From"] = "Claire Martin <claire.martin@example.org>"
    msg["To"] = "accueil@valmont.fr"
    msg["Subject"] = "Re: Votre demande de carte d'identité"
    msg["Date"] = "Thu, 12 Mar 2026 09:15:00 +0100"
    msg["Message-ID"] = "<reply-1@example.org>"
    msg["In-Reply-To"] = "<demande-77@valmont.fr>"
    msg.set_content(
        "Bonjour,\n\nMerci pour votre réponse rapide, l'agent de l'accueil a été très aimable.\n"
        "Par contre j'ai attendu 45 minutes avant d'être reçue.\n\n"
        "-- \nClaire Martin\n06 12 34 56 78\n\n"
        "Le mer. 11 mars 2026 à 17:02, Mairie de Valmont <accueil@valmont.fr> a\n"
        "écrit :\n> Madame,\n> Votre rendez-vous est confirmé.\n"
    )
    return msg.as_bytes()


def html_from_elected() -> bytes:
    """An elected representative's HTML message (with a text alternative missing) and an
    attached PDF."""
    msg = EmailMessage()
    msg["From"] = "Paul Durand <p.durand@conseil.valmont.fr>"
    msg["To"] = "qualite@valmont.fr"
    msg["Subject"] = "Remontée du conseil de quartier Nord"
    msg["Date"] = "Fri, 13 Mar 2026 18:40:00 +0100"
    msg["Message-ID"] = "<elu-1@conseil.valmont.fr>"
    msg.set_content(
        "<html><body><p>Les habitants du quartier Nord se plaignent de l'<b>éclairage</b> "
        "défaillant rue des Lilas.</p><p>Ils saluent en revanche la propreté du parc.</p>"
        "<div class='gmail_quote'>Le jeu. 12 mars, Service <a>x</a> a écrit :"
        "<blockquote>ancien message</blockquote></div></body></html>",
        subtype="html",
    )
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf",
                       filename="photos-rue-des-lilas.pdf")
    return msg.as_bytes()


def english_outlook() -> bytes:
    """An English multipart/alternative message quoting Outlook-style."""
    msg = EmailMessage()
    msg["From"] = "tom@example.com"
    msg["To"] = "feedback@valmont-transit.example"
    msg["Subject"] = "Bus 12 late again"
    msg["Date"] = "Mon, 16 Mar 2026 07:55:00 +0000"
    msg["Message-ID"] = "<bus-12@example.com>"
    msg.set_content(
        "The number 12 bus was 20 minutes late this morning, third time this week.\n"
        "Sent from my iPhone\n\n"
        "From: Valmont Transit <feedback@valmont-transit.example>\n"
        "Sent: Friday, March 13, 2026 10:00\nSubject: Your feedback\n\nThank you...\n"
    )
    msg.add_alternative("<p>The number 12 bus was <i>20 minutes</i> late.</p>", subtype="html")
    return msg.as_bytes()


def attachment_only() -> bytes:
    msg = EmailMessage()
    msg["From"] = "scanner@valmont.fr"
    msg["Subject"] = "Scan"
    msg["Message-ID"] = "<scan-1@valmont.fr>"
    msg.set_content("")
    msg.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="scan.png")
    return msg.as_bytes()


MESSAGES = [plain_reply, html_from_elected, english_outlook]


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(path, create=True)
    for raw in messages:
        box.add(raw)
    box.close()
    return path


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path, create=True)
    for raw in messages:
        box.add(raw)
    box.close()
    return path
