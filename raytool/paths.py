"""Where raytool finds the shared benchmark data and keeps its caches (never inside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """`$RAYTOOL_CACHE`, else `~/.cache/raytool`: imported datasets, converted models, checkpoints."""
    return Path(os.environ.get("RAYTOOL_CACHE") or Path.home() / ".cache" / "raytool")


def shown_path(path: str | Path) -> str:
    """`path` as reports print it, without this machine's layout: under the cache `$RAYTOOL_CACHE/...`, under the
    home directory `~/...`, else as it is."""
    text = str(path)
    for root, name in ((cache_dir(), "$RAYTOOL_CACHE"), (Path.home(), "~")):
        prefix = str(root).rstrip("/")
        if text == prefix or text.startswith(prefix + "/"):
            return name + text[len(prefix) :]
    return text


def shared_data_dir() -> Path:
    """The benchmark data folder: `$RAYTOOL_DATA_DIR`, else `shared/data` beside the repository or the cwd."""
    if os.environ.get("RAYTOOL_DATA_DIR"):
        return Path(os.environ["RAYTOOL_DATA_DIR"])
    for base in (Path.cwd(), *Path.cwd().parents, _PACKAGE_ROOT, *_PACKAGE_ROOT.parents):
        candidate = base.parent / "shared" / "data"
        if (candidate / "seal_tools").is_dir():
            return candidate
    raise FileNotFoundError(
        "cannot find the shared benchmark data (a folder shared/data beside the repository); "
        "set RAYTOOL_DATA_DIR to its path"
    )
