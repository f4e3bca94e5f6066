"""scripts/readme_results.py: the section between the README markers is rebuilt from metrics files; --check."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "readme_results.py"
README = "# raytool\n\nIntro.\n\n## Results\n\n<!-- results:begin -->\nold text\n<!-- results:end -->\n\n## More\n"


def load_script():
    spec = importlib.util.spec_from_file_location("readme_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def est(mean: float, low: float, high: float) -> dict:
    return {"mean": mean, "ci95": [low, high], "n": 20}


def write_eval(out: Path, methods: dict[str, tuple[float, float]]) -> Path:
    for method, (success, calls) in methods.items():
        record = {
            "method": method,
            "data": "toolbench/g1.jsonl",
            "format": "toolbench",
            "tasks": 20,
            "seed": 0,
            "teacher": "qwen",
            "metrics": {"success": est(success, success - 0.2, success + 0.1), "teacher_calls": est(calls, 0, calls)},
            "timing": {"wall_s": est(0.1 * calls, 0.0, calls)},
        }
        (out / method).mkdir(parents=True)
        (out / method / "metrics.json").write_text(json.dumps(record))
    return out


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=ROOT)


def test_replace_section_keeps_the_rest() -> None:
    script = load_script()
    new = script.replace_section(README, "| table |")
    assert new == README.replace("old text", "| table |")
    assert script.replace_section(new, "| table |") == new
    with pytest.raises(ValueError, match="results:begin"):
        script.replace_section("# no markers\n", "x")
    with pytest.raises(ValueError, match="exactly one"):
        script.replace_section(README.replace("<!-- results:end -->", "") + "<!-- results:end -->\n" * 2, "x")


def test_writes_then_check_passes_and_catches_stale(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    eval_dir = write_eval(tmp_path / "eval", {"react": (0.5, 8.0), "proxy": (0.7, 1.0)})
    (eval_dir / "plots").mkdir()
    (eval_dir / "plots" / "metrics.png").write_bytes(b"png")
    ablation = write_eval(tmp_path / "ablation", {"proxy": (0.7, 1.0), "proxy-no-skills": (0.6, 2.0)})

    assert run("--eval-dir", eval_dir, "--readme", readme, "--check").returncode == 1
    assert readme.read_text() == README  # --check writes nothing
    done = run("--eval-dir", eval_dir, "--ablation-dir", ablation, "--readme", readme)
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("# raytool\n\nIntro.") and text.endswith("<!-- results:end -->\n\n## More\n")
    assert "old text" not in text
    section = text.split("<!-- results:begin -->")[1]
    assert section.index("| proxy ") < section.index("| react ") < section.index("Ablations:")
    assert "| proxy-no-skills |" in section
    assert "proxy uses 8.0x fewer teacher calls per task than react" in section
    assert "![metrics](eval/plots/metrics.png)" in section  # beside the README: embedded, relative

    again = run("--eval-dir", eval_dir, "--ablation-dir", ablation, "--readme", readme, "--check")
    assert again.returncode == 0, again.stderr
    assert run("--eval-dir", eval_dir, "--readme", readme, "--check").returncode == 1  # ablation table dropped


def test_missing_markers_is_a_clear_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# raytool\n")
    done = run("--eval-dir", write_eval(tmp_path / "eval", {"proxy": (0.7, 1.0)}), "--readme", readme)
    assert done.returncode == 2
    assert "<!-- results:begin -->" in done.stderr and "add them" in done.stderr
    assert readme.read_text() == "# raytool\n"


def test_empty_eval_dir_is_a_clear_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README)
    done = run("--eval-dir", tmp_path, "--readme", readme)
    assert done.returncode == 2 and "no */metrics.json" in done.stderr
