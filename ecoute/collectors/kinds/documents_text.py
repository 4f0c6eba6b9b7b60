"""Text out of minutes and reports (txt, md, docx, odt, pdf), as paragraphs that carry feedback.

Each reader returns ``Block``s in reading order, marking what the format itself says is a
heading. ``feedback_paragraphs`` then keeps the paragraphs a person could have said about the
service and drops the scaffolding of minutes:

* headings (docx "Heading"/"Title" styles, odt ``text:h``, markdown ``#`` and underlined lines)
  and any short line without sentence punctuation, which in minutes is a heading or a label;
* agenda numbers ("1.", "2)", "IV -", "a)") are cut off the front, and what is left goes
  through the same rules, so "3. Cantine" is dropped and "3. Les repas arrivent froids." kept;
* attendance lists: paragraphs opening with "Présents", "Excusés", "Absents", "Attendees",
  "Apologies"... and paragraphs that are mostly capitalised names separated by commas;
* boilerplate: page numbers, "Ordre du jour", "Séance levée à ...", "Fait à ...", signatures,
  "Prochaine réunion ...", confidentiality notices, a date alone on its line;
* paragraphs shorter than ``min_words`` words.

Encrypted and corrupt files raise :class:`UnreadableDocument`, which the collector turns into a
quarantine entry for that file only.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ecoute.collectors.files.reading import SAMPLE_BYTES, detect_encoding

SUFFIXES = (".txt", ".md", ".docx", ".odt", ".pdf")

# A docx or odt is a zip: refuse archives that would inflate far beyond their size before
# any XML parser sees them.
MAX_INFLATED_BYTES = 200_000_000
MAX_INFLATE_RATIO = 200


class UnreadableDocument(Exception):
    """The file cannot be read as the document it claims to be."""

    def __init__(self, reason: str, error_class: str = "CorruptDocument") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_class = error_class


@dataclass
class Block:
    text: str
    heading: bool = False


def decode_text(data: bytes, encoding: str | None = None) -> str:
    """The given encoding, else a BOM, UTF-8 or the most likely legacy one (files.py rules)."""
    bom = 0
    if encoding is None:
        encoding, bom = detect_encoding(data[:SAMPLE_BYTES])
        # UTF-16/32 codecs read their BOM themselves; only UTF-8's is skipped here.
        bom = bom if encoding == "utf-8" else 0
    try:
        return data[bom:].decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableDocument(
            f"text not valid in {encoding} ({exc}); set the `encoding` option", "ParseError"
        ) from exc


BULLET = re.compile(r"^\s*(?:[-*•–·]|\d{1,2}[.)])\s+")
SETEXT = re.compile(r"^\s*(=+|-+)\s*$")


def read_plain(data: bytes, markdown: bool, encoding: str | None = None) -> list[Block]:
    """Blank-line separated blocks; a block made of bullets gives one block per bullet."""
    blocks: list[Block] = []
    text = decode_text(data, encoding).replace("\r\n", "\n")
    for chunk in re.split(r"\n\s*\n", text):
        lines = [line for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if markdown and len(lines) == 2 and SETEXT.match(lines[1]):
            blocks.append(Block(lines[0].strip(), heading=True))
            continue
        current: list[str] = []
        for line in lines:
            if markdown and line.lstrip().startswith("#"):
                if current:
                    blocks.append(Block(" ".join(current)))
                    current = []
                blocks.append(Block(line.strip().lstrip("#").strip(), heading=True))
            elif BULLET.match(line) and current:
                blocks.append(Block(" ".join(current)))
                current = [line.strip()]
            else:
                current.append(line.strip())
        if current:
            blocks.append(Block(" ".join(current)))
    if markdown:
        for block in blocks:
            block.text = re.sub(r"[*_`]{1,3}([^*_`]+)[*_`]{1,3}", r"\1", block.text)
    return blocks


def _check_zip(data: bytes, what: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise UnreadableDocument(f"not a valid {what} file (damaged or truncated: {exc})") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted or exotic zip members
        raise UnreadableDocument(f"{what} file cannot be opened: {exc}", "EncryptedDocument") from exc
    if bad is not None:
        raise UnreadableDocument(f"{what} file is damaged (member {bad} fails its checksum)")
    if inflated > MAX_INFLATED_BYTES or inflated > MAX_INFLATE_RATIO * max(len(data), 1):
        raise UnreadableDocument(
            f"{what} file would inflate to {inflated} bytes from {len(data)}: refused as a "
            "possible zip bomb", "ZipBomb",
        )


def _is_ole(data: bytes) -> bool:
    # Office encrypts docx by wrapping it in an OLE compound file.
    return data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_docx(data: bytes) -> list[Block]:
    if _is_ole(data):
        raise UnreadableDocument(
            "the docx file is password-protected; save an unprotected copy", "EncryptedDocument"
        )
    _check_zip(data, "docx")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise UnreadableDocument(f"not a readable docx file ({exc})") from exc
    except Exception as exc:  # lxml raises its own tree of errors on damaged XML
        raise UnreadableDocument(f"damaged docx content ({type(exc).__name__}: {exc})") from exc
    blocks = []
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        heading = style.startswith(("Heading", "Title", "Titre", "Subtitle"))
        if paragraph.text.strip():
            blocks.append(Block(" ".join(paragraph.text.split()), heading=heading))
    return blocks


def read_odt(data: bytes) -> list[Block]:
    _check_zip(data, "odt")
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    try:
        document = load(io.BytesIO(data))
    except Exception as exc:  # odfpy surfaces zip, XML and KeyError failures unwrapped
        raise UnreadableDocument(f"not a readable odt file ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []

    def walk(node: object) -> None:
        for child in getattr(node, "childNodes", []):
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                text = " ".join(teletype.extractText(child).split())
                if text:
                    blocks.append(Block(text, heading=qname == (TEXTNS, "h")))
            elif qname != (TEXTNS, "tracked-changes"):
                walk(child)

    walk(document.text)
    return blocks


SENTENCE_END = re.compile(r"[.!?…»:;)]\s*$")


def read_pdf(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Owner-password-only PDFs (printing/copying restrictions) open with no password.
            opened = False
            try:
                opened = bool(reader.decrypt(""))
            except (FileNotDecryptedError, NotImplementedError) as exc:
                if "cryptography" in str(exc):
                    raise UnreadableDocument(
                        f"encrypted PDF needs the cryptography package ({exc})",
                        "EncryptedDocument",
                    ) from exc
            if not opened:
                raise UnreadableDocument(
                    "the PDF is password-protected; save an unprotected copy",
                    "EncryptedDocument",
                )
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableDocument:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableDocument(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    for page in pages:
        current: list[str] = []
        lines = [line.strip() for line in page.split("\n")]
        for index, line in enumerate(lines):
            if not line:
                if current:
                    blocks.append(Block(" ".join(current)))
                    current = []
                continue
            current.append(line)
            following = next((n for n in lines[index + 1:] if n), "")
            # PDF text has no paragraph marks: a line ending a sentence followed by one that
            # starts like a new sentence or a bullet closes the paragraph.
            if SENTENCE_END.search(line) and (BULLET.match(following) or following[:1].isupper()):
                blocks.append(Block(" ".join(current)))
                current = []
            elif (not SENTENCE_END.search(line) and len(line.split()) <= 12
                  and len(current) == 1
                  and (following[:1].isupper() or AGENDA_NUMBER.match(following))):
                blocks.append(Block(line))  # a title or label line, judged by the filter
                current = []
        if current:
            blocks.append(Block(" ".join(current)))
    return blocks


def read_blocks(path: Path, data: bytes, encoding: str | None = None) -> list[Block]:
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        return read_plain(data, markdown=suffix == ".md", encoding=encoding)
    if suffix == ".docx":
        return read_docx(data)
    if suffix == ".odt":
        return read_odt(data)
    if suffix == ".pdf":
        return read_pdf(data)
    raise UnreadableDocument(f"{suffix or 'no'} extension: only {', '.join(SUFFIXES)} are read",
                             "UnsupportedFormat")


AGENDA_NUMBER = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*[.)]?|[IVXLC]{1,5}[.)]|[a-h][.)])"
                           r"\s*[-–:]?\s+")
ATTENDANCE = re.compile(
    r"^\s*(?:étaient\s+)?(?:présent|absent|excusé|représenté|invité|pouvoirs?|procurations?|"
    r"secrétaire de séance|président(?:e)? de séance|attendees|attendance|present|apologies|"
    r"absent|in attendance|also present|chair(?:ed by)?|minute[- ]taker|membres? présents?)"
    r"(?:\(e\)|e)?s?\s*[:\-–]", re.IGNORECASE,
)
BOILERPLATE = re.compile(
    r"^\s*(?:page\s+\d+|-\s*\d+\s*-|\d+\s*/\s*\d+$|ordre du jour|agenda\b|"
    r"(?:la\s+)?séance (?:est\s+)?(?:levée|ouverte)|meeting (?:closed|opened)|fait à\b|"
    r"signé|signature|le (?:président|secrétaire)|la (?:présidente|secrétaire)|"
    r"prochaine (?:réunion|séance)|next meeting|date of next|document (?:interne|confidentiel)|"
    r"confidential|compte[- ]rendu (?:de|du)\b.{0,60}$|procès[- ]verbal (?:de|du)\b.{0,60}$|"
    r"minutes of\b.{0,60}$|approbation du (?:compte[- ]rendu|procès[- ]verbal)|"
    r"approval of (?:the )?minutes|copie à|cc\s*:|diffusion\s*:)",
    re.IGNORECASE,
)
WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _names_list(text: str) -> bool:
    """"Mme Durand, M. Petit, Dr Lemoine (parents d'élèves), ..." reads as attendance."""
    if text.count(",") + text.count(";") < 2:
        return False
    words = WORD.findall(text)
    if not words:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.6


def is_feedback(block: Block, min_words: int) -> bool:
    if block.heading:
        return False
    text = AGENDA_NUMBER.sub("", block.text, count=1).strip()
    words = WORD.findall(text)
    if len(words) < min_words:
        return False
    if BOILERPLATE.match(text) or ATTENDANCE.match(text) or _names_list(text):
        return False
    if text.isupper():
        return False
    # A short line with no sentence punctuation is a heading or a label in minutes.
    return len(words) > 12 or bool(re.search(r"[.!?…»;,:]", text))


def feedback_paragraphs(blocks: list[Block], min_words: int) -> list[str]:
    return [AGENDA_NUMBER.sub("", b.text, count=1).strip() for b in blocks
            if is_feedback(b, min_words)]
