"""Filler checkpoints: a directory written atomically — `model.safetensors` (the `FillerScorer`) and
`filler.json` ({"dim", "hidden", "features" (the pair features, in order: a checkpoint trained on other
features is refused), "encoder", ...the training config and metrics})."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raytool.filler.features import FEATURES
from raytool.filler.model import EXTRA, FillerScorer
from raytool.tools.files import atomic_dir, read_json

WEIGHTS_FILE = "model.safetensors"
META_FILE = "filler.json"
PAIR_FEATURES = [*FEATURES, *EXTRA]  # what a checkpoint records and is checked against at load


def default_dir() -> Path:
    """Where the main job writes the filler (and where its users look when given none)."""
    from raytool.paths import cache_dir

    return cache_dir() / "run" / "filler"


def save_scorer(scorer: FillerScorer, meta: dict[str, Any], out_dir: str | Path) -> Path:
    from safetensors.torch import save_file

    with atomic_dir(out_dir) as tmp:
        save_file({k: v.contiguous() for k, v in scorer.state_dict().items()}, str(tmp / WEIGHTS_FILE))
        record = {**meta, "dim": scorer.dim, "hidden": scorer.hidden, "features": PAIR_FEATURES}
        (tmp / META_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
    return Path(out_dir)


def is_current(path: str | Path) -> bool:
    """Whether `path` holds a checkpoint this version can load (trained on today's pair features)."""
    path = Path(path)
    return (path / META_FILE).exists() and read_json(path / META_FILE).get("features") == PAIR_FEATURES


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
