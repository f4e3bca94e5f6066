"""Reading input files with exact error locations, and writing outputs atomically.

Readers decode strictly (bad UTF-8 names the line), report truncated JSON with its line, and refuse empty
files. Writers build a whole output directory beside the target and rename it into place, so a failed or
interrupted write never leaves a partial or corrupted output behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from raytool.tools.errors import BAD_ENCODING, EMPTY_FILE, TRUNCATED_JSON, RecordError


def read_text(path: str | Path) -> str:
    """The file's text; errors name the line of a bad UTF-8 byte, or say the file is empty."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise RecordError(str(path), f"line {line}", "", f"invalid UTF-8 at byte {err.start}", BAD_ENCODING) from None
    if not text.strip():
        raise RecordError(str(path), "", "", "file is empty", EMPTY_FILE)
    return text


def read_json(path: str | Path) -> Any:
    """A whole-file JSON document; a syntax error names its line and column."""
    return _json(read_text(path), path)


def _json(text: str, path: str | Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise RecordError(
            str(path), f"line {err.lineno}", "", f"malformed JSON ({err.msg}, column {err.colno})", TRUNCATED_JSON
        ) from None


def read_document(path: str | Path) -> Any:
    """A whole-file JSON or YAML document (`.yaml` / `.yml`, or any file that is not JSON); a syntax error names
    its line and column."""
    import yaml

    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() not in (".yaml", ".yml") and text.lstrip()[:1] in ("{", "["):  # meant to be JSON
        return _json(text, path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        column = f", column {mark.column + 1}" if mark else ""
        raise RecordError(str(path), where, "", f"malformed YAML ({getattr(err, 'problem', err)}{column})",
                          TRUNCATED_JSON) from None  # fmt: skip


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any | RecordError]]:
    """(line number, parsed object) per non-blank line; a bad line yields its `RecordError` instead.

    Yielding the error (not raising) lets `--skip-bad` imports go on past it; strict callers raise it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    seen = False
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            seen = True
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as err:
                yield (
                    lineno,
                    RecordError(str(path), f"line {lineno}", "", f"invalid UTF-8 at byte {err.start}", BAD_ENCODING),
                )
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as err:
                msg = f"malformed JSON ({err.msg}, column {err.colno})"
                yield lineno, RecordError(str(path), f"line {lineno}", "", msg, TRUNCATED_JSON)
    if not seen:
        raise RecordError(str(path), "", "", "file is empty", EMPTY_FILE)


def write_jsonl_lines(fh: Any, records: Any) -> int:
    """Write one compact JSON object per line; returns the count."""
    n = 0
    for record in records:
        fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        fh.write("\n")
        n += 1
    return n


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary directory beside `target`; on success it replaces `target` in one rename.

    On any exception the temporary directory is removed and `target` (if it existed) is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _fsync_dir(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, old / "x")
            os.rename(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_dir(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
            with child.open("rb") as fh:
                os.fsync(fh.fileno())
