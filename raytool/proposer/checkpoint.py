"""Proposer checkpoints: a directory written atomically.

model.safetensors   every weight (encoder and, when trained, the rationale decoder)
proposer.json       {"config": ProposerConfig, "ranking": {lexical_weight, platt_a, platt_b, source_weights,
                     source_ratios}, "metrics": validation metrics, "fingerprint": sha256 of the weights,
                     "rationale_head"}
config.json, tokenizer files    the encoder's architecture and tokenizer (no model hub needed to load)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from raytool.proposer.adaptation import Agreement, adapted_weight
from raytool.proposer.config import ProposerConfig
from raytool.proposer.ranking import PlattScaling
from raytool.tools.files import atomic_dir

WEIGHTS_FILE = "model.safetensors"
META_FILE = "proposer.json"


@dataclass
class CheckpointMeta:
    """What proposer.json holds besides the weights. source_weights: the lexical weight fitted on each training
    source's own validation tasks, when the proposer was trained on several (a union of benchmarks); a query of a
    source not among them ranks with `lexical_weight`, the one fitted on all sources together, unless the caller
    adapts it to the new catalogue (`unseen_weight`, `adaptation.py`). source_ratios: each training source's
    agreement ratio on its validation tasks (`adaptation.Agreement.ratio`), the reference for that adaptation."""

    config: ProposerConfig
    lexical_weight: float
    platt: PlattScaling = field(default_factory=PlattScaling)
    metrics: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    rationale_head: bool = False
    source_weights: dict[str, float] = field(default_factory=dict)
    source_ratios: dict[str, float] = field(default_factory=dict)

    def weight_for(self, source: str = "") -> float:
        """The lexical weight for a query of `source` ("" or an unseen source: the overall one)."""
        return self.source_weights.get(source, self.lexical_weight)

    def seen(self, source: str) -> bool:
        """Whether `source` is one the checkpoint was validated on ("" counts as seen: the overall weight)."""
        return not source or source in self.source_weights or source in self.source_ratios

    def unseen_weight(self, target: Agreement | None) -> float:
        """The lexical weight for a catalogue the checkpoint was not validated on, from its queries' `target`
        agreement (`adaptation.adapted_weight`: the median per-source weight, else the overall one, scaled down by
        the ratio against the median per-source ratio); None or no recorded ratios: that base weight as it is."""
        base = float(np.median(list(self.source_weights.values()))) if self.source_weights else self.lexical_weight
        if target is None or not self.source_ratios:
            return base
        return adapted_weight(base, float(np.median(list(self.source_ratios.values()))), target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "ranking": {
                "lexical_weight": self.lexical_weight,
                "platt_a": self.platt.a,
                "platt_b": self.platt.b,
                "source_weights": self.source_weights,
                "source_ratios": self.source_ratios,
            },
            "metrics": self.metrics,
            "fingerprint": self.fingerprint,
            "rationale_head": self.rationale_head,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> CheckpointMeta:
        ranking = record["ranking"]
        return cls(
            config=ProposerConfig.from_dict(record["config"]),
            lexical_weight=float(ranking["lexical_weight"]),
            platt=PlattScaling(float(ranking["platt_a"]), float(ranking["platt_b"])),
            metrics=dict(record.get("metrics", {})),
            fingerprint=record.get("fingerprint", ""),
            rationale_head=bool(record.get("rationale_head", False)),
            source_weights={str(k): float(v) for k, v in ranking.get("source_weights", {}).items()},
            source_ratios={str(k): float(v) for k, v in ranking.get("source_ratios", {}).items()},
        )


def save_checkpoint(out_dir: str | Path, model: Any, tokenizer: Any, meta: CheckpointMeta) -> Path:
    """Write weights, meta, encoder config and tokenizer to `out_dir` (replaced atomically)."""
    from safetensors.torch import save_file

    with atomic_dir(out_dir) as tmp:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
        meta.fingerprint = _sha256(tmp / WEIGHTS_FILE)
        meta.rationale_head = model.rationale is not None
        (tmp / META_FILE).write_text(json.dumps(meta.to_dict(), indent=2) + "\n")
        model.encoder.config.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out_dir)


def load_meta(ckpt_dir: str | Path) -> CheckpointMeta:
    """A checkpoint's meta (config, ranking settings, metrics) without loading its weights; the checkpoint's files
    are checked to be there."""
    ckpt_dir = Path(ckpt_dir)
    for name in (WEIGHTS_FILE, META_FILE, "config.json"):
        if not (ckpt_dir / name).is_file():
            raise FileNotFoundError(f"{ckpt_dir}: not a proposer checkpoint (missing {name})")
    return CheckpointMeta.from_dict(json.loads((ckpt_dir / META_FILE).read_text()))


def load_checkpoint(ckpt_dir: str | Path) -> tuple[Any, Any, CheckpointMeta]:
    """(ProposerModel in eval mode, tokenizer, meta) from a directory written by `save_checkpoint`."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from raytool.proposer.model import ProposerModel

    ckpt_dir = Path(ckpt_dir)
    meta = load_meta(ckpt_dir)
    encoder = AutoModel.from_config(AutoConfig.from_pretrained(ckpt_dir, local_files_only=True))
    model = ProposerModel(encoder, rationale_head=meta.rationale_head, train_layers=meta.config.train_layers)
    model.load_state_dict(load_file(str(ckpt_dir / WEIGHTS_FILE)))
    tokenizer = AutoTokenizer.from_pretrained(ckpt_dir, local_files_only=True)
    return model.eval(), tokenizer, meta


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
