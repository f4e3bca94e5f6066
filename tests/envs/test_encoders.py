"""The decider env's text encoders: hashed words and MiniLM sentence vectors."""

from __future__ import annotations

import numpy as np
import pytest

from raytool.envs.encoders import check_encoder_name, make_encoder


def test_minilm_relates_a_paraphrase_that_shares_no_word_where_hashed_words_cannot() -> None:
    texts = ["reserve a hotel room for the traveller", "book accommodation for the guest", "sell shares of a stock"]
    hashed = make_encoder("hashing-256").encode(texts)
    assert abs(float(hashed[0] @ hashed[1])) < 0.2  # no word in common: only bucket collisions
    minilm = make_encoder("minilm")
    assert minilm is make_encoder("minilm")  # loaded once per process
    vectors = minilm.encode(texts)
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.2


@pytest.mark.parametrize("name", ["bert", "hashing-", "hashing-0", "hashing-x"])
def test_unknown_encoder_names_are_refused_before_any_model_loads(name: str) -> None:
    with pytest.raises(ValueError, match=f"unknown encoder '{name}'; use 'hashing', 'hashing-D' or 'minilm'"):
        check_encoder_name(name)
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder(name)
