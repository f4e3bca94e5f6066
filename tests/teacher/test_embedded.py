"""The embedded model conversion: idempotent, and safe when several processes start at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from raytool.teacher.embedded import ensure_embedded_model, gguf_path


def test_gguf_ships_with_the_package() -> None:
    assert gguf_path().stat().st_size > 50_000_000


def test_concurrent_conversions_make_one_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "smol"
    env = dict(os.environ, RAYTOOL_TEACHER_DIR=str(target), OMP_NUM_THREADS="1")
    code = "from raytool.teacher.embedded import ensure_embedded_model as e; print(e(log=lambda m: print(m)))"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum("converting" in out for out in outputs) == 1  # the second waited on the lock, then reused it
    assert all(out.strip().endswith(str(target)) for out in outputs)
    assert (target / "model.safetensors").stat().st_size > 200_000_000
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".smol.tmp")) == []
    os.environ["RAYTOOL_TEACHER_DIR"] = str(target)
    try:
        assert ensure_embedded_model(log=lambda m: (_ for _ in ()).throw(AssertionError(m))) == target
    finally:
        del os.environ["RAYTOOL_TEACHER_DIR"]
