"""One tiny real training run of the proposer (MiniLM, 2 steps), its checkpoint, loading, proposing and the
incremental index cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from raytool.proposer import train as train_module
from raytool.proposer.checkpoint import META_FILE, WEIGHTS_FILE, _sha256, load_checkpoint
from raytool.proposer.config import ProposerConfig
from raytool.proposer.documents import tool_document
from raytool.proposer.losses import proposer_loss, rationale_loss, select_loss
from raytool.proposer.proposer import ToolProposer
from raytool.proposer.train import prepare_data, train_proposer
from tests.proposer.catalogue import catalogue, extra_tools, tasks

CONFIG = ProposerConfig(max_steps=2, epochs=1, batch_size=4, threads=1, val_fraction=0.3, train_layers=1,
                        hard_negatives=1, alpha=0.5)  # fmt: skip
QUERIES = [
    "Book a flight ticket to Rome. Then tell me the weather forecast in Rome.",
    "Convert 100 dollars to euros.",
    "Order a large pizza to my address.",
]


def _records() -> dict[str, dict[str, Any]]:
    out = {}
    for t in tasks():
        rationale = f"The user asks to {t.query.split('.')[0].lower()}, so {' and '.join(t.tool_names)} fit."
        out[t.id] = {"task_id": t.id, "teacher_tools": t.tool_names, "gold_rationale": rationale,
                     "gold_rationale_ok": t.id != "t3"}  # fmt: skip
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Train once; keep the in-memory model that was saved (captured from `save_checkpoint`)."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("proposer") / "ckpt"
    saved: dict[str, Any] = {"steps": 0}
    real_save, real_step = train_module.save_checkpoint, train_module._step

    def capture(out_dir, model, tokenizer, meta):
        saved.update(model=model, tokenizer=tokenizer, meta=meta)
        return real_save(out_dir, model, tokenizer, meta)

    def count(*args, **kwargs):
        saved["steps"] += 1
        return real_step(*args, **kwargs)

    data = prepare_data(tasks(), catalogue(), CONFIG, _records())
    logs: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_module, "save_checkpoint", capture)
        mp.setattr(train_module, "_step", count)
        result = train_proposer(data, CONFIG, out, log=logs.append)
    return {"result": result, "data": data, "out": out, "logs": logs, **saved}


def test_training_writes_a_checkpoint_that_loads_to_the_same_proposer(trained: dict[str, Any]) -> None:
    out: Path = trained["out"]
    result = trained["result"]
    assert result.checkpoint == out
    for name in (WEIGHTS_FILE, META_FILE, "config.json", "tokenizer_config.json"):
        assert (out / name).is_file(), name
    assert (out / "tokenizer.json").is_file() or (out / "vocab.txt").is_file()
    assert any(e.rationale for e in trained["data"].train)  # the rationale head had something to learn
    assert len(result.history) == 1 and result.history[0]["epoch"] == 1
    assert trained["steps"] == CONFIG.max_steps  # an epoch has more steps than that
    assert "4 steps/epoch" in trained["logs"][0]
    meta = json.loads((out / META_FILE).read_text())
    assert meta["rationale_head"] is True
    assert meta["fingerprint"] == _sha256(out / WEIGHTS_FILE)
    assert ProposerConfig.from_dict(meta["config"]) == CONFIG
    for key in ("recall_at_5", "complete_at_5", "lexical_weight", "calibration_ece", "train_seconds"):
        assert key in meta["metrics"] and key in result.metrics
    assert 0.0 <= meta["metrics"]["complete_at_5"] <= meta["metrics"]["recall_at_5"] <= 1.0

    memory = ToolProposer(trained["model"], trained["tokenizer"], trained["meta"])
    loaded = ToolProposer.load(out, threads=1)
    assert not loaded.model.training
    assert loaded.meta.lexical_weight == memory.meta.lexical_weight and loaded.meta.platt == memory.meta.platt
    assert loaded.meta.platt.a > 0  # fit on validation: higher fused scores mean likelier tools
    sources = {t.source for t in trained["data"].val_tasks}  # each one's agreement ratio, the unseen reference
    assert loaded.meta.source_ratios == memory.meta.source_ratios and set(loaded.meta.source_ratios) == sources
    assert all(r >= 0 for r in loaded.meta.source_ratios.values())
    docs = [tool_document(s) for s in catalogue().values()]
    np.testing.assert_allclose(loaded.encode(docs, 128), memory.encode(docs, 128), atol=1e-5)
    np.testing.assert_allclose(loaded.encode(QUERIES, 64), memory.encode(QUERIES, 64), atol=1e-5)
    norms = np.linalg.norm(loaded.encode(QUERIES, 64), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)

    specs = list(catalogue().values())
    idx_mem, idx_load = memory.index(specs, cache=False), loaded.index(specs, cache=False)
    for query in QUERIES:
        a, b = memory.propose(query, idx_mem, k=5), loaded.propose(query, idx_load, k=5)
        assert a.names == b.names
        np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)
        assert len(b.names) == len(b.probs) == len(b.scores) == 5 and len(set(b.names)) == 5
        assert all(0.0 <= p <= 1.0 for p in b.probs)
        np.testing.assert_allclose(b.probs, loaded.meta.platt(np.array(b.scores)))
        for i in range(4):  # the calibration is increasing: a higher score never gets a lower probability
            if b.scores[i] >= b.scores[i + 1]:
                assert b.probs[i] >= b.probs[i + 1]
    assert loaded.propose(QUERIES[1], idx_load).names == loaded.propose(QUERIES[1], idx_load, k=CONFIG.top_p).names
    whole = loaded.propose(QUERIES[1], idx_load, k=100)
    assert sorted(whole.names) == sorted(catalogue())

    explained = loaded.explain(QUERIES[:2])
    assert len(explained) == 2 and all(isinstance(s, str) for s in explained)
    loaded.model.rationale = None
    with pytest.raises(ValueError, match="no rationale head"):
        loaded.explain(QUERIES[:1])


def test_index_cache_is_incremental_and_history_moves_called_tools_last(
    trained: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAYTOOL_CACHE", str(tmp_path / "cache"))
    proposer = ToolProposer.load(trained["out"], threads=1)
    specs = list(catalogue().values())
    first = proposer.index(specs)
    assert first.encoded == len(specs)
    cache = tmp_path / "cache" / "proposer_index" / proposer.meta.fingerprint[:16] / "vectors.npz"
    assert cache.is_file()
    assert proposer.index(specs).encoded == 0
    grown = proposer.index([*specs, *extra_tools()])
    assert grown.encoded == 2
    assert grown.names == [*first.names, "track_parcel", "find_cinema"]
    np.testing.assert_allclose(grown.vectors[: len(specs)], first.vectors)
    new_vectors = proposer.encode([tool_document(s) for s in extra_tools()], proposer.config.doc_max_length)
    np.testing.assert_allclose(grown.vectors[len(specs) :], new_vectors, atol=1e-6)
    assert proposer.index([*specs, *extra_tools()]).encoded == 0
    assert proposer.index(specs, cache=False).encoded == len(specs)

    query = "Book a flight ticket to Rome. Then tell me the weather forecast in Rome."
    plain = proposer.propose(query, first, k=len(specs))
    called = plain.names[:2]
    later = proposer.propose(query, first, k=len(specs), history=called)
    assert sorted(later.names) == sorted(plain.names)
    assert set(later.names[-2:]) == set(called)
    assert all(n not in called for n in later.names[:-2])
    np.testing.assert_allclose(later.probs, proposer.meta.platt(np.array(later.scores)))
    (ranked,) = proposer.rank([query], first, k=len(specs), histories=[called])
    assert ranked.names == later.names
    pooled = proposer.rank([query], first, k=3, pools=[["order_pizza", "get_weather", "send_email", "book_flight"]])
    assert len(pooled[0].names) == 3
    assert set(pooled[0].names) <= {"order_pizza", "get_weather", "send_email", "book_flight"}


def test_one_step_gives_every_trainable_parameter_a_gradient(trained: dict[str, Any]) -> None:
    """DDP (Ray Train) fails at the second step if a parameter that requires grad never gets one."""
    proposer = ToolProposer.load(trained["out"], threads=1)
    model, tokenizer = proposer.model.train(), proposer.tokenizer
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and not any(n.startswith("encoder.embeddings.") for n in trainable)
    assert all(n.startswith(("encoder.encoder.layer.5.", "rationale.")) for n in trainable)  # train_layers=1
    batch = trained["data"].train[:4]
    names = list(dict.fromkeys(n for e in batch for n in (*e.positives, *e.hard_negatives)))
    positives = torch.tensor([[n in e.positives for n in names] for e in batch])
    queries = tokenizer([e.text for e in batch], padding=True, return_tensors="pt")
    docs = tokenizer([tool_document(catalogue()[n]) for n in names], padding=True, return_tensors="pt")
    rationale_in, targets = train_module._rationale_batch(tokenizer, ["Use the tool."] + [""] * 3, 16)
    q, d, logits = model(dict(queries), dict(docs), rationale_in)
    loss = proposer_loss(select_loss(q, d, positives, 0.05), rationale_loss(logits, targets, tokenizer.pad_token_id),
                         0.5)  # fmt: skip
    loss.backward()
    missing = sorted(n for n, p in model.named_parameters() if p.requires_grad and p.grad is None)
    assert missing == []


@pytest.mark.parametrize("missing", [WEIGHTS_FILE, META_FILE, "config.json"])
def test_load_checkpoint_names_the_missing_file(trained: dict[str, Any], tmp_path: Path, missing: str) -> None:
    copy = tmp_path / "ckpt"
    shutil.copytree(trained["out"], copy)
    (copy / missing).unlink()
    with pytest.raises(FileNotFoundError, match=missing.replace(".", r"\.")):
        load_checkpoint(copy)


def test_a_bf16_training_pass_gives_float32_unit_vectors_close_to_float32s_and_inference_stays_float32(
    trained: dict[str, Any],
) -> None:
    model, tokenizer = ToolProposer.load(trained["out"], threads=1).model, trained["tokenizer"]
    batch = tokenizer(QUERIES, padding=True, return_tensors="pt")

    def embed(bf16: bool, training: bool) -> torch.Tensor:
        model.train(training)
        model.train_bf16 = bf16
        torch.manual_seed(0)  # the same dropout masks for both precisions
        with torch.no_grad():
            return model.embed(batch["input_ids"], batch["attention_mask"])

    low, full = embed(True, True), embed(False, True)
    assert low.dtype == torch.float32 and not torch.equal(low, full)  # bf16 did run
    assert torch.allclose(low.norm(dim=-1), torch.ones(len(QUERIES)), atol=1e-5)
    assert torch.nn.functional.cosine_similarity(low, full).min() > 0.99
    assert torch.equal(embed(True, False), embed(False, False))  # eval: never bf16
