"""A stage's evaluation table computed once per checkpoint: a resumed main job prints the table it already made.

    key = report_key(ckpt / "proposer.json", tasks=700, baselines=["bm25"])
    text = report_once(out / "reports" / "proposer.json", key, lambda: results_table(evaluate(...)))

The key holds the checkpoints' meta files by content hash (a retrained checkpoint rewrites its meta: other metrics,
other seconds) and the settings the table depends on; a table made under another key is made again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from raytool.tools.errors import RecordError
from raytool.tools.files import atomic_write_text, read_json


def report_key(*metas: Path, **settings: Any) -> dict[str, Any]:
    """{"checkpoints": {meta path name: sha1 of its bytes}, "settings": settings} (JSON-comparable)."""
    digests = {f"{Path(m).parent.name}/{Path(m).name}": hashlib.sha1(Path(m).read_bytes()).hexdigest() for m in metas}
    return json.loads(json.dumps({"checkpoints": digests, "settings": settings}, default=str))


def _kept(path: Path, key: dict[str, Any]) -> str | None:
    """The text kept at `path` when it was made under `key`, else None."""
    if not path.exists():
        return None
    try:
        kept = read_json(path)
    except RecordError:  # a report cut short or edited by hand: make it again
        return None
    return kept.get("text") if isinstance(kept, dict) and kept.get("key") == key else None


def _keep(path: Path, key: dict[str, Any], text: str) -> None:
    """`text` kept at `path` under `key` (written atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps({"key": key, "text": text}, indent=1))


def report_once(
    path: Path, key: dict[str, Any], make: Callable[[], str], outputs: Sequence[Path] = ()
) -> tuple[str, bool]:
    """(`make()`'s text, False) the first time for `key`, kept at `path`; (the kept text, True) after, while every
    file in `outputs` (what `make` writes beside the text: the table's per-request files) still exists."""
    kept = _kept(path, key) if all(Path(o).exists() for o in outputs) else None
    if kept is not None:
        return kept, True
    text = make()
    _keep(path, key, text)
    return text, False
