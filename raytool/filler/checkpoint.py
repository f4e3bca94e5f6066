"""Filler checkpoints: a directory written atomically — `model.safetensors` (the `FillerScorer`),
`filler.json` ({"dim", "hidden", "features" (the pair features, in order: a checkpoint trained on other
features is refused), "encoder", ...the training config and metrics}) and, when trained with one, `reader/` (the
fine-tuned span reader: `model.safetensors`, `reader.json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raytool.filler.features import FEATURES
from raytool.filler.model import EXTRA, FillerScorer
from raytool.tools.files import atomic_dir, read_json

WEIGHTS_FILE = "model.safetensors"
META_FILE = "filler.json"
READER_DIR = "reader"
READER_META = "reader.json"
PAIR_FEATURES = [*FEATURES, *EXTRA]  # what a checkpoint records and is checked against at load


def default_dir() -> Path:
    """Where the main job writes the filler (and where its users look when given none)."""
    from raytool.paths import cache_dir

    return cache_dir() / "run" / "filler"


def save_scorer(
    scorer: FillerScorer, meta: dict[str, Any], out_dir: str | Path, reader=None, reader_meta: dict | None = None
) -> Path:
    """The scorer (and the span reader, when given, into `reader/`) as one checkpoint directory, in one rename."""
    from safetensors.torch import save_file

    with atomic_dir(out_dir) as tmp:
        save_file({k: v.contiguous() for k, v in scorer.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        record = {**meta, "dim": scorer.dim, "hidden": scorer.hidden, "features": PAIR_FEATURES}
        (tmp / META_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
        if reader is not None:
            _write_reader(reader, reader_meta or {}, tmp / READER_DIR)
    return Path(out_dir)


def is_current(path: str | Path, reader: bool = False) -> bool:
    """Whether `path` holds a checkpoint this version can load (trained on today's pair features), with a span
    reader when `reader`."""
    path = Path(path)
    if not (path / META_FILE).exists() or read_json(path / META_FILE).get("features") != PAIR_FEATURES:
        return False
    return not reader or (path / READER_DIR / READER_META).exists()


def load_scorer(path: str | Path) -> tuple[FillerScorer, dict[str, Any]]:
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / META_FILE).exists():
        raise FileNotFoundError(f"{path}: no {META_FILE} (train one with `raytool filler train`)")
    meta = read_json(path / META_FILE)
    features = meta.get("features")
    if features != PAIR_FEATURES:
        raise ValueError(
            f"{path / META_FILE}: field 'features': the checkpoint was trained on "
            f"{len(features) if features else 'an older list of'} pair features, this version computes "
            f"{len(PAIR_FEATURES)}; retrain it with `raytool filler train`"
        )
    scorer = FillerScorer(int(meta["dim"]), int(meta["hidden"]))
    scorer.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    return scorer.eval(), meta


def _write_reader(reader, meta: dict[str, Any], directory: Path) -> None:
    """The span reader (`reader.py`) into `directory`: its weights (encoder + head) and `reader.json` (width, the
    training config and metrics). The tokenizer comes from the MiniLM package."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in reader.state_dict().items()}, str(directory / WEIGHTS_FILE))
    (directory / READER_META).write_text(json.dumps({**meta, "width": reader.head.width}, indent=2, default=str) + "\n")


def load_reader(filler_dir: str | Path, int8: bool = False, bf16: bool = False, frozen: bool = True):
    """The span reader of a filler checkpoint, or None when it has none (a scorer-only checkpoint). `int8`: its
    linear layers dynamically quantized to int8 for inference (`quantize_linear`); else `bf16`: its MiniLM encoder in
    bf16 (the head and the scores stay float32). `frozen`: its encoder run as a traced, frozen graph
    (`SpanReader.freeze`)."""
    from safetensors.torch import load_file

    from raytool.filler.reader import SpanReader

    path = Path(filler_dir) / READER_DIR
    if not (path / READER_META).exists():
        return None
    meta = read_json(path / READER_META)
    reader = SpanReader.from_minilm(int(meta["width"]))
    reader.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    if int8:
        reader = quantize_linear(reader.eval())
    elif bf16:
        import torch

        reader.encoder.to(torch.bfloat16)
    return reader.freeze() if frozen else reader.eval()


def quantize_linear(model):
    """`model` (the reader, or the filler's frozen MiniLM encoder) with every `nn.Linear` dynamically quantized to
    int8 (weights int8, activations quantized per batch): on this machine's CPU about half the forward time; for the
    reader at the same held-out accuracy (docs/filler.md, "Latency"). Inference only; training keeps float32."""
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notice (torchao is its successor)
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
