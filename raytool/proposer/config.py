"""`ProposerConfig`: how the proposer is trained and how it ranks (saved with every checkpoint)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LABEL_SOURCES = ("gold", "teacher", "both")


@dataclass(frozen=True)
class ProposerConfig:
    """Settings of the tool proposer.

    Model
      query_max_length: tokens kept of a query segment (with its history).
      doc_max_length: tokens kept of a tool document (`documents.tool_document`).
      train_layers: top transformer layers fine-tuned (0-6); lower layers and the embeddings stay frozen
        (no backward pass through them: ~1.5x faster steps on CPU).
      rationale_max_length: wordpiece tokens of a rationale the decoder reproduces.

    Objective  L = L_select + alpha * L_rationale
      alpha: weight of the rationale head's loss; 0 trains no rationale head at all.
      temperature: InfoNCE temperature tau of the cosine scores.
      hard_negatives: BM25-mined negatives per example (from the `hard_negative_pool` best lexical matches).
      label_source: "gold" (gold calls where a task has them), "teacher" (the teacher's choices), or "both"
        (gold where present, the teacher's choices for tasks without gold calls).

    The defaults are the embedded default's budget: Seal-Tools dev (700 tasks, ~2,000 examples) trains in
    about 10 minutes on 2 CPU cores (docs/proposer.md).

    Optimisation
      lr: AdamW learning rate of the encoder; head_lr: of the rationale decoder.
      batch_size: examples per step (per worker under Ray Train); epochs: at most this many passes.
      patience: epochs without a better validation Complete@5 before stopping early.
      val_fraction: tasks held out of the training data for early stopping, fusion fitting and calibration.
      max_steps / max_minutes: optional caps on the run (tests, time-boxed CPU budgets).
      threads: torch intra-op threads per process.
      attention_dropout: the encoder's attention-probability dropout while fine-tuning (None: its own, 0.1, which
        sends CPU attention to its slow path, `raytool.cpu_training`).
      bf16: the encoder's training passes under bf16 autocast (weights, optimiser state, pooling and the loss stay
        float32; validation and inference are float32); None: where the CPU computes bf16 natively
        (`raytool.hardware.cpu_has_bf16`). A training step 1.9x faster on this machine's AMX CPU (docs/proposer.md).

    Ranking
      segment: rank each sentence of a multi-part query separately and interleave the lists.
      lexical_weight: w in fused = cos + w * bm25 / max(bm25); refit on validation when fit_lexical_weight.
      top_p: candidates proposed by default.
    """

    query_max_length: int = 64
    doc_max_length: int = 96
    train_layers: int = 3
    rationale_max_length: int = 48

    alpha: float = 0.0
    temperature: float = 0.05
    hard_negatives: int = 1
    hard_negative_pool: int = 10
    label_source: str = "gold"

    lr: float = 3e-5
    head_lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 2
    patience: int = 1
    val_fraction: float = 0.1
    max_steps: int | None = None
    max_minutes: float | None = None
    threads: int = 2
    attention_dropout: float | None = 0.0
    bf16: bool | None = None
    seed: int = 0

    segment: bool = True
    lexical_weight: float = 0.3
    fit_lexical_weight: bool = True
    top_p: int = 5

    def __post_init__(self) -> None:
        if self.label_source not in LABEL_SOURCES:
            raise ValueError(f"label_source must be one of {LABEL_SOURCES}, got {self.label_source!r}")
        if not 0 <= self.train_layers <= 6:
            raise ValueError(f"train_layers must be in 0..6 (MiniLM-L6 has 6 layers), got {self.train_layers}")
        if self.train_layers == 0 and self.alpha == 0:
            raise ValueError("train_layers = 0 with alpha = 0 trains nothing; set train_layers >= 1 or alpha > 0")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.temperature <= 0 or self.batch_size < 1 or self.epochs < 1:
            raise ValueError("temperature must be > 0, batch_size and epochs >= 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict[str, Any], where: str = "<proposer config>") -> ProposerConfig:
        """Checked by `raytool.config.settings_from` (errors name `where`, the key path and what was expected)."""
        from raytool.config import settings_from

        return settings_from(cls, record, where, "proposer")

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: Sequence[str] = ()) -> ProposerConfig:
        """A YAML file (keys bare or under `proposer:`; None = the defaults) with KEY=VALUE `overrides` on top."""
        from raytool.config import apply_overrides, read_config

        where = f"{path} with --set" if path and overrides else str(path or "--set")
        return cls.from_dict(apply_overrides(read_config(path, "proposer"), overrides), where)

    def replace(self, **changes: Any) -> ProposerConfig:
        return ProposerConfig.from_dict(self.to_dict() | changes)
