"""F_P checkpoints: a directory written atomically (built beside the target, then renamed into place).

model.safetensors   the `PolicyReconstruction` weights
fp.json             {"dim", "top_p", "width", "heads", "layers"} (the architecture, read off the model), then the
                    caller's meta: training config, metrics, the env settings the records were sampled under
                    (`env`: top_p, max_steps, encoder, candidate_source), ...

The architecture keys are taken from the model itself, so a checkpoint always loads into the shape it was
saved from; meta may not contradict them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raytool.decider.fp_model import PolicyReconstruction
from raytool.tools.files import atomic_dir, read_json

WEIGHTS_FILE = "model.safetensors"
META_FILE = "fp.json"
ARCHITECTURE = ("dim", "top_p", "width", "heads", "layers")


def architecture(model: PolicyReconstruction) -> dict[str, int]:
    """The constructor arguments of `model`: dim, top_p, width, heads, layers."""
    return {
        "dim": model.dim,
        "top_p": model.top_p,
        "width": model.query.out_features,
        "heads": model.encoder.layers[0].self_attn.num_heads,
        "layers": len(model.encoder.layers),
    }


def save_policy_reconstruction(model: PolicyReconstruction, meta: dict[str, Any], out_dir: str | Path) -> Path:
    """Write `model.safetensors` and `fp.json` (architecture + `meta`) to `out_dir`, replacing it atomically."""
    from safetensors.torch import save_file

    arch = architecture(model)
    clash = [k for k in ARCHITECTURE if k in meta and meta[k] != arch[k]]
    if clash:
        raise ValueError(f"meta {clash[0]}={meta[clash[0]]!r} contradicts the model's {clash[0]}={arch[clash[0]]}")
    record = arch | {k: v for k, v in meta.items() if k not in ARCHITECTURE}
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"  # fails before anything is written
    with atomic_dir(out_dir) as tmp:
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS_FILE))
        (tmp / META_FILE).write_text(text, encoding="utf-8")
    return Path(out_dir)


def load_policy_reconstruction(path: str | Path) -> tuple[PolicyReconstruction, dict[str, Any]]:
    """(F_P in eval mode with frozen weights, the fp.json record) from a directory of `save_policy_reconstruction`."""
    from safetensors.torch import load_file

    path = Path(path)
    for name in (META_FILE, WEIGHTS_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path}: not an F_P checkpoint (missing {name})")
    meta = read_json(path / META_FILE)
    missing = [k for k in ARCHITECTURE if not isinstance(meta.get(k), int)]
    if missing:
        raise ValueError(f"{path / META_FILE}: field {missing[0]!r} is missing or not an integer")
    model = PolicyReconstruction(**{k: meta[k] for k in ARCHITECTURE})
    model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model, meta


def observation_settings(env_config: dict[str, Any]) -> dict[str, Any]:
    """The decider-env settings that shape what F_P's input means: top_p, max_steps, encoder, candidate source kind.

    The candidate source is compared by kind (`bm25`, `embedding`, `file`): training and held-out tasks read their
    own `file:` rankings of one proposer.
    """
    from raytool.envs.decider_env import DeciderEnvConfig

    defaults = DeciderEnvConfig.__dataclass_fields__
    merged = {k: env_config.get(k, defaults[k].default) for k in ("top_p", "max_steps", "encoder", "candidate_source")}
    merged["candidate_source"] = str(merged["candidate_source"]).split(":", 1)[0]
    return merged


def recorded_encoder(path: str | Path | None) -> str:
    """The decider-env text encoder the F_P checkpoint at `path` was trained under (fp.json's `env`); the env's default
    without a checkpoint or a recorded one. A decider F_P guides must read text the same way (`check_env_settings`)."""
    meta = Path(path) / META_FILE if path else None
    recorded = read_json(meta).get("env") if meta and meta.exists() else None
    return observation_settings(recorded if isinstance(recorded, dict) else {})["encoder"]


def check_env_settings(path: str | Path, env_config: dict[str, Any]) -> None:
    """ValueError unless the F_P checkpoint at `path` was trained on states of a decider env with the same
    observation settings as `env_config` (`observation_settings`; fp.json's `env`, from `distill rank`)."""
    check_recorded_env(Path(path) / META_FILE, env_config)


def check_recorded_env(path: Path, env_config: dict[str, Any]) -> None:
    """ValueError unless the JSON file at `path` (an F_P checkpoint's fp.json, a `distill rank` output's summary.json)
    records in `env` the observation settings of `env_config`: pi_LLM or states of another env would be read off
    observations that mean something else."""
    recorded = read_json(path).get("env")
    if not isinstance(recorded, dict) or not recorded:
        raise ValueError(
            f"{path}: field 'env' is missing: the decider env settings its states were sampled under are unknown "
            "(label states with `distill rank`, which records them, and re-train F_P on them)"
        )
    expected, sampled = observation_settings(env_config), observation_settings(recorded)
    for key, value in expected.items():
        if sampled[key] != value:
            raise ValueError(
                f"{path}: field 'env.{key}' is {sampled[key]!r} but the decider env has {key}={value!r}: pi_LLM would "
                "be read off observations it was not sampled on (label states with `distill rank` under the decider's "
                "env settings and re-train F_P)"
            )
