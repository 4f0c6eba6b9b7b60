"""The wording heads' features: hashed character n-grams inside word boundaries."""

from __future__ import annotations

import numpy as np

from ecoute.classifiers.char_ngrams import BITS, SparseRows, char_ngrams


def _dense(rows: SparseRows) -> np.ndarray:
    out = np.zeros(rows.shape, dtype=np.float32)
    for i in range(len(rows)):
        span = slice(rows.indptr[i], rows.indptr[i + 1])
        out[i, rows.indices[span]] = rows.values[span]
    return out


def test_ngrams_are_those_of_padded_words_counted_damped_and_rows_of_unit_length() -> None:
    rows = char_ngrams(["Ok", "ok OK", "", "très bien 👍"])
    assert rows.shape == (4, 1 << BITS)
    dense = _dense(rows)
    # "Ok" is " ok ": " o", "ok", "k ", " ok", "ok ", " ok " (case folded, nothing of 5).
    assert len(np.flatnonzero(dense[0])) == 6
    np.testing.assert_allclose(dense[0], dense[1], rtol=1e-6)  # counts damped, then scaled
    assert not dense[2].any()
    np.testing.assert_allclose(np.linalg.norm(dense[[0, 1, 3]], axis=1), 1.0, rtol=1e-5)
    # The same text gives the same columns in every process (CRC-32, not Python's hash).
    again = char_ngrams(["très bien 👍"])
    np.testing.assert_array_equal(again.indices, rows.take(np.array([3])).indices)


def test_take_and_the_product_agree_with_the_dense_matrix() -> None:
    rows = char_ngrams(["rude staff", "", "quick and kind", "slow slow slow"], bits=8)
    weight = np.random.default_rng(0).normal(size=(3, 1 << 8)).astype(np.float32)
    np.testing.assert_allclose(rows.matmul_t(weight), _dense(rows) @ weight.T, rtol=1e-5,
                               atol=1e-6)
    picked = rows.take(np.array([3, 0]))
    np.testing.assert_array_equal(_dense(picked), _dense(rows)[[3, 0]])
    np.testing.assert_array_equal(_dense(rows.take(np.array([True, False, False, True]))),
                                  _dense(rows)[[0, 3]])
    assert rows.take(np.zeros(0, dtype=np.int64)).shape == (0, 1 << 8)


def test_a_linear_fit_on_sparse_rows_equals_the_fit_on_the_same_dense_rows() -> None:
    from ecoute.classifiers.heads import fit_linear

    texts = ["rude staff", "kind staff", "open monday", "rude desk", "kind desk", "form monday"]
    rows = char_ngrams(texts, bits=8)
    y = np.array([0, 2, 1, 0, 2, 1])
    sparse = fit_linear(rows, y, n_labels=3, l2=1e-3)
    dense = fit_linear(_dense(rows), y, n_labels=3, l2=1e-3)
    np.testing.assert_allclose(sparse[0], dense[0], atol=1e-4)
    np.testing.assert_allclose(sparse[1], dense[1], atol=1e-4)
