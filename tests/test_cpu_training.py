"""`raytool.cpu_training`: the fused AdamW is the per-tensor AdamW's update; attention dropout is set only where
attention probabilities are dropped."""

from __future__ import annotations

import torch
from torch import nn

from raytool.cpu_training import adamw, set_attention_dropout


def test_the_fused_adamw_makes_the_per_tensor_adamws_steps() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    twin = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    twin.load_state_dict(model.state_dict())
    fused = adamw([{"params": list(model[0].parameters()), "lr": 1e-2}, {"params": list(model[2].parameters()),
                                                                         "lr": 3e-2}])  # fmt: skip
    plain = torch.optim.AdamW([{"params": list(twin[0].parameters()), "lr": 1e-2},
                               {"params": list(twin[2].parameters()), "lr": 3e-2}], weight_decay=0.01)  # fmt: skip
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(16, 6), torch.randn(16, 2)
    for _ in range(5):
        for net, optimizer in ((model, fused), (twin, plain)):
            loss = ((net(x) - y) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for a, b, start in zip(model.parameters(), twin.parameters(), before, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
        assert not torch.allclose(a, start, atol=1e-3)  # every tensor moved: equal because both stepped alike


def test_attention_dropout_is_set_on_every_self_attention_and_nowhere_else() -> None:
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=3, num_attention_heads=2,
                        intermediate_size=16, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)  # fmt: skip
    model = BertModel(config)
    assert set_attention_dropout(model, 0.0) == 3
    attention = [m.dropout.p for m in model.modules() if hasattr(m, "query")]
    others = [m.p for name, m in model.named_modules() if isinstance(m, nn.Dropout) and ".attention.self." not in name]
    assert attention == [0.0, 0.0, 0.0]
    assert others and all(p == 0.1 for p in others)  # hidden-state dropout kept


def test_threads_are_set_inside_the_block_and_given_back_after_an_error_too() -> None:
    from raytool.cpu_training import torch_threads

    torch.set_num_threads(2)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        try:
            with torch_threads(0):  # at least one
                assert torch.get_num_threads() == 1
                raise RuntimeError("stage failed")
        except RuntimeError:
            pass
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_no_attention_dropout_given_leaves_the_encoders_own() -> None:
    from transformers import BertConfig, BertModel

    model = BertModel(BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=16, attention_probs_dropout_prob=0.1))  # fmt: skip
    assert set_attention_dropout(model, None) == 0
    assert [m.dropout.p for m in model.modules() if hasattr(m, "query")] == [0.1, 0.1]
