"""Which encoding a text file is in, and whether it is text at all."""

from __future__ import annotations

import codecs

#: How much of a file its encoding (and a CSV file's delimiter) is detected from.
SAMPLE_BYTES = 256 * 1024
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a file are not text in any encoding a table comes in.

    UTF-16/32 text (with or without a BOM) is full of NUL bytes, but at every other position;
    text in a single-byte encoding or UTF-8 has almost no control bytes at all.
    """
    if not head or any(head.startswith(bom) for bom, _name in BOMS):
        return False
    nuls = head.count(0)
    if nuls and nuls >= len(head) // 4 and (
            head[0::2].count(0) == 0 or head[1::2].count(0) == 0):
        return False  # UTF-16 (or 32) without a BOM: NULs only on one side of every pair
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(head) // 20


def detect_encoding(sample: bytes) -> tuple[str, int]:
    """(encoding, BOM length): a BOM wins, then UTF-8 if the sample decodes, then the
    charset-normalizer guess, then cp1252 (what Excel writes on French Windows)."""
    for bom, name in BOMS:
        if sample.startswith(bom):
            return name, len(bom)
    try:
        sample.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the end of the sample
            return "utf-8", 0
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:65536], cp_isolation=["cp1252", "latin_1", "iso8859_15",
                                                     "cp850", "mac_roman"]).best()
    guess = codecs.lookup(best.encoding).name if best else "cp1252"
    return ("cp1252" if guess == "iso8859-1" else guess), 0
