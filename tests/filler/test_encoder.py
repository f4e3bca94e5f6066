"""The filler's span pooling (`raytool/filler/encoder.py: pool_spans`) against its definition."""

from __future__ import annotations

import numpy as np

from raytool.filler.encoder import pool_spans
from raytool.filler.spans import Candidate


def test_each_candidate_gets_the_mean_of_the_pieces_overlapping_it_and_zeros_when_none_does() -> None:
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(7, 5)).astype(np.float32)
    offsets = np.array([[0, 0], [0, 4], [5, 7], [7, 9], [10, 15], [16, 20], [0, 0]])  # [CLS] ... [SEP]
    spans = [(0, 4), (5, 9), (6, 12), (21, 25), (0, 20)]
    cands = [Candidate("x", start, end, "span", 1) for start, end in spans]
    out = pool_spans(hidden, offsets, cands)
    expected = [hidden[[1]].mean(0), hidden[[2, 3]].mean(0), hidden[[2, 3, 4]].mean(0), np.zeros(5),
                hidden[1:6].mean(0)]  # fmt: skip
    np.testing.assert_allclose(out, np.stack(expected), rtol=1e-6, atol=1e-6)
    assert pool_spans(hidden, offsets, []).shape == (0, 5)


def test_texts_answers_every_text_when_its_cache_is_emptied_between_chunks() -> None:
    from raytool.filler.encoder import SpanEncoder

    texts = [f"parameter {i} (string): the value number {i}" for i in range(70)]  # two chunks of 64
    small = SpanEncoder(cache_size=10)  # emptied before the second chunk, after the first was cached
    vectors = small.texts(texts)
    alone = SpanEncoder().texts(texts)
    assert vectors.shape == (70, 384)
    np.testing.assert_allclose(vectors, alone, atol=1e-5)
