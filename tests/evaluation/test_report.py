"""The report layer: table cells and missing metrics, headline ratios, summary files, metrics.json checks, plots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from raytool.evaluation.plots import bar_panels
from raytool.evaluation.report import (
    CI_NOTE,
    METRIC_GROUPS,
    format_estimate,
    load_results,
    markdown_table,
    metric_columns,
    ratio_lines,
    write_summary,
)


def est(mean: float, low: float, high: float, n: int = 30) -> dict:
    return {"mean": mean, "ci95": [low, high], "n": n}


def result(method: str, metrics: dict, timing: dict | None = None) -> dict:
    return {
        "method": method,
        "data": "seal_tools/test.jsonl",
        "format": "seal_tools",
        "tasks": 30,
        "seed": 0,
        "teacher": "qwen2.5-0.5b",
        "metrics": metrics,
        "timing": timing or {},
    }


@pytest.fixture()
def results() -> list[dict]:
    return [
        result(
            "proxy",
            {"success": est(0.7333, 0.55, 0.87), "teacher_calls": est(1.2, 1.0, 1.4), "recall@5": est(0.9, 0.8, 0.95)},
            {"wall_s": est(0.5, 0.4, 0.6)},
        ),
        result(
            "react",
            {"success": est(0.6, 0.42, 0.75), "teacher_calls": est(9.6, 8.9, 10.3)},
            {"wall_s": est(2.0, 1.5, 2.5)},
        ),
        result("cot", {"teacher_calls": est(1.0, 1.0, 1.0), "teacher_tokens": est(12345.4, 11900.2, 12790.6)}),
    ]


def test_cells_format_by_magnitude() -> None:
    assert format_estimate(est(0.7333, 0.5512, 0.8712)) == "0.733 [0.55, 0.87]"
    assert format_estimate(est(42.46, 38.11, 46.81)) == "42.5 [38.1, 46.8]"
    assert format_estimate(est(12345.4, 11900.2, 12790.6)) == "12345 [11900, 12791]"
    assert format_estimate(est(0.01234, 0.0101, 0.0149)) == "0.0123 [0.0101, 0.0149]"


def test_table_orders_columns_and_marks_missing(results: list[dict]) -> None:
    table = markdown_table(results)
    header, rule, *rows = table.splitlines()
    columns = [c.strip() for c in header.strip("|").split("|")]
    assert columns == [
        "method",
        "tasks",
        "recall@5",
        "success rate",
        "teacher calls / task",
        "teacher tokens / task",
        "wall s / task",
    ]
    assert metric_columns(results) == ["recall@5", "success", "teacher_calls", "teacher_tokens", "wall_s"]
    cells = {row.split("|")[1].strip(): [c.strip() for c in row.strip("|").split("|")] for row in rows}
    assert list(cells) == ["proxy", "react", "cot"]
    assert cells["proxy"][3] == "0.733 [0.55, 0.87]"
    assert cells["cot"][2] == cells["cot"][3] == cells["react"][5] == "—"  # recall, success, tokens missing
    assert cells["cot"][5] == "12345 [11900, 12791]"
    assert cells["react"][4] == "9.600 [8.90, 10.30]"
    assert cells["proxy"][6] == "0.500 [0.40, 0.60]"


def test_table_with_chosen_metrics(results: list[dict]) -> None:
    header = markdown_table(results, metrics=["teacher_calls", "exact_match"]).splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "method",
        "tasks",
        "teacher calls / task",
        "exact match",
    ]
    rows = markdown_table(results, metrics=["exact_match"]).splitlines()[2:]
    assert [row.strip("|").split("|")[2].strip() for row in rows] == ["—", "—", "—"]


def test_column_shares_one_decimals_rule() -> None:
    rows = [
        result("a", {"teacher_tokens": est(915.7, 837.2, 994.1)}),
        result("b", {"teacher_tokens": est(1078, 1004, 1153)}),
    ]
    cells = [row.strip("|").split("|")[2].strip() for row in markdown_table(rows).splitlines()[2:]]
    assert cells == ["916 [837, 994]", "1078 [1004, 1153]"]  # the largest mean (1078) sets 0 decimals for all


def test_ratio_lines(results: list[dict]) -> None:
    lines = ratio_lines(results)
    assert lines == [
        "Success rate: proxy 73.3% vs react 60.0% (+13.3 percentage points).",
        "proxy uses 8.0x fewer teacher calls per task than react (1.200 vs 9.600).",
        "proxy uses 4.0x less wall-clock time per task than react (0.500 s vs 2.000 s).",
    ]
    assert ratio_lines(results, baseline="dfs") == []
    assert (
        ratio_lines(results, baseline="cot")[0]
        == "proxy uses 1.2x more teacher calls per task than cot (1.200 vs 1.000)."
    )


def test_ratio_lines_never_divide_by_zero() -> None:
    zero = [
        result("proxy", {"teacher_calls": est(0.0, 0.0, 0.0)}, {"wall_s": est(0.3, 0.2, 0.4)}),
        result("react", {"teacher_calls": est(9.6, 8.9, 10.3)}, {"wall_s": est(0.0, 0.0, 0.0)}),
    ]
    assert ratio_lines(zero) == [
        "Teacher calls per task: proxy 0.000 vs react 9.600.",
        "Wall-clock time per task: proxy 0.300 s vs react 0.000 s.",
    ]
    both = [result("proxy", {"teacher_calls": est(0.0, 0.0, 0.0)}), result("react", {"teacher_calls": est(0.0, 0, 0)})]
    assert ratio_lines(both) == ["proxy and react use the same teacher calls per task (0.000)."]


def write_metrics(out: Path, results: list[dict]) -> None:
    for r in results:
        (out / r["method"]).mkdir(parents=True)
        (out / r["method"] / "metrics.json").write_text(json.dumps(r))


def test_write_and_load_round_trip(tmp_path: Path, results: list[dict]) -> None:
    extra = [result("proxy-no-skills", {"teacher_calls": est(2.0, 1.5, 2.5)}), result("dfs", {})]
    write_metrics(tmp_path, [*extra, *results[::-1]])
    loaded = load_results(tmp_path)
    assert [r["method"] for r in loaded] == ["proxy", "react", "cot", "dfs", "proxy-no-skills"]
    assert loaded[:3] == results
    md, js = write_summary(tmp_path, loaded)
    assert json.loads(js.read_text()) == loaded
    text = md.read_text()
    assert text.startswith("# Agent evaluation\n")
    assert markdown_table(loaded) in text and CI_NOTE in text
    assert "- proxy uses 8.0x fewer teacher calls per task than react (1.200 vs 9.600)." in text
    assert load_results(tmp_path) == loaded  # summary files are not picked up as a method


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda r: r.pop("teacher"), "'teacher'"),
        (lambda r: r["metrics"]["success"].pop("ci95"), "'metrics.success.ci95'"),
        (lambda r: r["timing"]["wall_s"].pop("n"), "'timing.wall_s.n'"),
        (lambda r: r["metrics"].update(success=est(0.5, 0.4, "x")), "'metrics.success'"),
    ],
)
def test_malformed_metrics_name_file_and_field(tmp_path: Path, results: list[dict], edit, field: str) -> None:
    edit(results[0])
    write_metrics(tmp_path, results)
    with pytest.raises(ValueError, match=field) as info:
        load_results(tmp_path)
    assert str(tmp_path / "proxy" / "metrics.json") in str(info.value)


def test_truncated_metrics_json(tmp_path: Path) -> None:
    (tmp_path / "react").mkdir()
    (tmp_path / "react" / "metrics.json").write_text('{"method": "react", ')
    with pytest.raises(ValueError, match="react/metrics.json: not valid JSON"):
        load_results(tmp_path)


def test_bar_panels_write_png(tmp_path: Path, results: list[dict]) -> None:
    per_metric = bar_panels(tmp_path / "plots" / "metrics.png", results)
    groups = bar_panels(tmp_path / "groups.png", results, groups=METRIC_GROUPS)
    for path in (per_metric, groups):
        assert 0 < path.stat().st_size < 300_000
        with Image.open(path) as image:
            assert image.format == "PNG"
            image.verify()
    with Image.open(per_metric) as a, Image.open(groups) as b:
        assert a.width == 4 * 420 and a.height > b.height  # 5 metric panels on 2 rows; 4 group panels on 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["groups.png", "metrics.png", "plots"]  # no temp left
    with pytest.raises(ValueError, match="none of the methods"):
        bar_panels(tmp_path / "x.png", results, groups=[("plan accuracy", ["exact_match", "call_f1"])])


def test_an_oracle_method_is_labelled_in_the_table(results: list[dict]) -> None:
    """A method given the gold argument values is an oracle row, never read as a headline."""
    rows = markdown_table([*results, result("proxy-gold-args", {"success": est(0.9, 0.8, 1.0)})]).splitlines()[2:]
    assert [row.strip("|").split("|")[0].strip() for row in rows] == [
        "proxy",
        "react",
        "cot",
        "proxy-gold-args (ORACLE)",
    ]


def test_the_run_names_only_teachers_that_were_asked() -> None:
    """A method that needed no teacher records none: the run line names the others' teacher, not an empty one."""
    from raytool.evaluation.report import describe_run

    proxy = result("proxy", {}) | {"teacher": ""}
    react = result("react", {})
    assert describe_run([proxy, react]).endswith("teacher `qwen2.5-0.5b`")
    assert describe_run([proxy]).endswith("teacher `none`")
    assert describe_run([react, result("cot", {}) | {"teacher": "smollm"}]).endswith("teacher `qwen2.5-0.5b / smollm`")
