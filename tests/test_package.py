"""Package-level rules: `import raytool` stays light, and dependencies between subpackages run one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import yaml

PACKAGE = Path(__file__).resolve().parent.parent / "raytool"
ROOT = PACKAGE.parent
# config <- tools <- envs <- teacher <- distill <- proposer <- decider <- skills <- planner <- agent <- serving
#   <- evaluation <- tune <- pipeline <- commands (the command line's handlers)
ORDER = [
    "config",
    "tools",
    "envs",
    "teacher",
    "distill",
    "proposer",
    "decider",
    "skills",
    "planner",
    "agent",
    "serving",
    "evaluation",
    "tune",
    "pipeline",
    "commands",
]


def test_import_is_light() -> None:
    code = (
        "import sys, raytool, raytool.tools, raytool.tools.importers, raytool.cli; "
        "heavy = [m for m in ('ray', 'torch', 'vllm', 'transformers') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_subpackages_import_only_upstream() -> None:
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        layer = parts[0].removesuffix(".py")  # a subpackage, or a one-module layer (config.py)
        if layer not in ORDER or (len(parts) < 2 and layer != "config"):
            continue
        rank = ORDER.index(layer)
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                bits = name.split(".")
                if bits[0] == "raytool" and len(bits) > 1 and bits[1] in ORDER:
                    assert ORDER.index(bits[1]) <= rank, f"{path}: {layer} must not import {bits[1]}"


def test_config_folders_hold_only_valid_yaml() -> None:
    for folder in ("clusters", "tune_configs", "serve"):
        assert (ROOT / folder).is_dir(), folder
        for path in (ROOT / folder).glob("*.y*ml"):
            assert isinstance(yaml.safe_load(path.read_text()), dict), path
