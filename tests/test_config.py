"""The one config layer (`raytool/config.py`): every config file kind rejects an unknown key and a wrong type in the
same shape — `<file>: <key path>: unknown key 'x' (known: ...)` and `<file>: <key path>: expected <type>, got
<value> (<its type>)` — and the checked conversion itself (ints for floats, lists for tuples, nested types)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from raytool.config import ConfigError, apply_overrides, read_config, settings_from
from raytool.decider.train import DeciderRunConfig
from raytool.pipeline import AgentStages, load_train_config
from raytool.proposer.config import ProposerConfig
from raytool.serving.config import load_serve_config
from raytool.teacher.backend import TeacherConfig
from raytool.tune.space import load_sweep

SWEEP = {"space": {"lambda1": {"grid": [0.0, 0.1]}}, "decider": {"iterations": 10}}
SERVE = {
    "http_options": {"host": "127.0.0.1", "port": 8000},
    "applications": [{"name": "raytool", "route_prefix": "/", "import_path": "raytool.serving.app:build_app",
                      "args": {"proposer": "p", "decider": "d", "domains": ["cpn"]}}],
}  # fmt: skip


def _serve(change):
    record = yaml.safe_load(yaml.safe_dump(SERVE))
    change(record)
    return record


# kind, how its file is loaded, the file with an unknown key, the key path and key, the file with a wrong type, the
# field's key path
KINDS = [
    ("teacher", TeacherConfig.from_file, {"teacher": {"num_actor": 1}}, "teacher", "num_actor",
     {"teacher": {"num_actors": "two"}}, "teacher.num_actors"),
    ("proposer", ProposerConfig.from_file, {"proposer": {"batch": 8}}, "proposer", "batch",
     {"proposer": {"batch_size": "eight"}}, "proposer.batch_size"),
    ("decider run", DeciderRunConfig.from_file, {"decider": {"iteration": 3}}, "decider", "iteration",
     {"decider": {"iterations": "ten"}}, "decider.iterations"),
    ("main job: section", load_train_config, {"agents": {}}, "<top>", "agents",
     {"agent": {"train_tasks": "many"}}, "agent.train_tasks"),
    ("main job: decider_stages", load_train_config, {"decider_stages": {"top": 3}}, "decider_stages", "top",
     {"decider_stages": {"top_p": 2.5}}, "decider_stages.top_p"),
    ("main job: filler", load_train_config, {"filler": {"epoch": 3}}, "filler", "epoch",
     {"filler": {"suite_tasks": [1]}}, "filler.suite_tasks"),
    ("main job: proxies' proposer", load_train_config, {"agent": {"proposer": {"tasks_per_leve": 3}}},
     "agent.proposer", "tasks_per_leve", {"agent": {"proposer": {"phrasings": "three"}}}, "agent.proposer.phrasings"),
    ("main job: segmenter", load_train_config, {"segmenter": {"level": [2]}}, "segmenter", "level",
     {"segmenter": {"levels": ["two"]}}, "segmenter.levels[0]"),
    ("catalogue job", load_train_config, {"catalogue": {"num_task": 3}}, "catalogue", "num_task",
     {"catalogue": {"decider": {"iterations": "x"}}}, "catalogue.decider.iterations"),
    ("tune sweep", load_sweep, {**SWEEP, "search": {"samples": 2}}, "search", "samples",
     {**SWEEP, "decider": {"iterations": "ten"}}, "decider.iterations"),
    ("serve", load_serve_config, _serve(lambda r: r["applications"][0]["args"].update(teacher={"num_actor": 1})),
     "applications[0].args.teacher", "num_actor",
     _serve(lambda r: r["http_options"].update(port="eighty")), "http_options.port"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "load", "unknown", "path", "key", "wrong", "field"), KINDS, ids=[k[0] for k in KINDS])
def test_every_config_kind_names_file_key_path_and_what_was_expected(
    tmp_path: Path, kind, load, unknown, path, key, wrong, field
) -> None:
    bad = tmp_path / "unknown.yaml"
    bad.write_text(yaml.safe_dump(unknown))
    with pytest.raises(ConfigError) as err:
        load(bad)
    assert re.match(rf"^{re.escape(str(bad))}: {re.escape(path)}: unknown key '{key}' \(known: \w", str(err.value)), err
    typo = tmp_path / "wrong.yaml"
    typo.write_text(yaml.safe_dump(wrong))
    with pytest.raises(ConfigError) as err:
        load(typo)
    assert re.match(rf"^{re.escape(str(typo))}: {re.escape(field)}: expected .+, got .+ \(\w+\)$", str(err.value)), err


def test_values_are_converted_only_where_lossless() -> None:
    run = settings_from(DeciderRunConfig, {"cpus_per_env_runner": 1, "runner_resources": {"rollout": 1}}, "f")
    assert run.cpus_per_env_runner == 1.0 and isinstance(run.cpus_per_env_runner, float)
    assert run.runner_resources == {"rollout": 1.0}
    stages = settings_from(AgentStages, {"methods": ["proxy", "cot"], "decider": None}, "f", "agent")
    assert stages.methods == ("proxy", "cot") and stages.decider is None
    with pytest.raises(ConfigError, match=r"^f: agent\.methods\[1\]: expected str, got 3 \(int\)$"):
        settings_from(AgentStages, {"methods": ["proxy", 3]}, "f", "agent")
    with pytest.raises(ConfigError, match=r"^f: decider\.iterations: expected int, got True \(bool\)$"):
        settings_from(DeciderRunConfig, {"iterations": True}, "f", "decider")
    with pytest.raises(ConfigError, match=r"^f: decider: expected a mapping, got \[1\] \(list\)$"):
        settings_from(DeciderRunConfig, [1], "f", "decider")


def test_a_dataclass_check_keeps_the_shape() -> None:
    with pytest.raises(ConfigError, match=r"^t\.yaml: teacher: teacher\.backend must be one of .*, got 'vlm'$"):
        TeacherConfig.from_dict({"backend": "vlm"}, "t.yaml")


def test_sections_and_overrides(tmp_path: Path) -> None:
    bare, nested = tmp_path / "bare.yaml", tmp_path / "nested.yaml"
    bare.write_text("batch_size: 8\n")
    nested.write_text("proposer: {batch_size: 8}\n")
    assert read_config(bare, "proposer") == read_config(nested, "proposer") == {"batch_size": 8}
    assert read_config(None) == {}
    assert apply_overrides({"a": {"b": 1}}, ["a.c=[1, 2]", "d=x"]) == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    assert ProposerConfig.from_file(nested, ["epochs=3"]).epochs == 3
    with pytest.raises(ConfigError, match=r"^--set: expects KEY=VALUE, got 'epochs'$"):
        apply_overrides({}, ["epochs"])
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: <top>: expected a mapping, got \[1\] \(list\)$"):
        read_config(tmp_path / "list.yaml")
