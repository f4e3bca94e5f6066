"""`raytool train`'s decider stages: settings sections are checked before any work starts."""

from __future__ import annotations

import pytest

from raytool.pipeline import DeciderStages, env_config


def test_sections_build_the_stage_settings() -> None:
    stages = DeciderStages.from_sections(
        {"decider_stages": {"train_tasks": 8, "rank_states": 20}, "fp": {"epochs": 2}, "decider": {"iterations": 3}}
    )
    assert (stages.train_tasks, stages.rank_states, stages.fp, stages.decider) == (
        8,
        20,
        {"epochs": 2},
        {"iterations": 3},
    )
    assert DeciderStages.from_sections({}) == DeciderStages()


@pytest.mark.parametrize(
    ("section", "key"), [("decider_stages", "train_task"), ("fp", "epoch"), ("decider", "iteratons")]
)
def test_unknown_keys_name_section_and_key(section: str, key: str) -> None:
    with pytest.raises(ValueError, match=f"^<train config>: {section}: unknown key '{key}'"):
        DeciderStages.from_sections({section: {key: 1}})


def test_env_config_reads_the_proposer_candidates(tmp_path) -> None:
    assert env_config(tmp_path, DeciderStages(), "")["candidate_source"] == "bm25"  # none written yet
    (tmp_path / "candidates.jsonl").write_text("")
    config = env_config(tmp_path, DeciderStages(), "")
    assert config["candidate_source"] == f"file:{tmp_path / 'candidates.jsonl'}" and config["top_p"] == 5


def test_env_config_reads_arguments_with_the_filler_unless_gold_is_asked(tmp_path) -> None:
    stages, out = DeciderStages(), tmp_path / "out"
    config = env_config(tmp_path, stages, stages.filler(out))
    assert config["arguments"] == "predicted" and config["filler"] == str(tmp_path / "out" / "filler")
    gold_stages = DeciderStages(arguments="gold")
    gold = env_config(tmp_path, gold_stages, gold_stages.filler(out))
    assert gold["arguments"] == "gold" and "filler" not in gold
    assert env_config(tmp_path, stages, "")["arguments"] == "gold"  # the stage-9 oracle row
    with pytest.raises(ValueError, match="arguments must be predicted or gold"):
        DeciderStages.from_sections({"decider_stages": {"arguments": "template"}})


def test_the_decider_envs_read_text_with_the_configured_encoder(tmp_path) -> None:
    assert env_config(tmp_path, DeciderStages(), "")["encoder"] == "hashing-256"
    stages = DeciderStages.from_sections({"decider_stages": {"encoder": "minilm"}})
    assert env_config(tmp_path, stages, "")["encoder"] == "minilm"
    with pytest.raises(ValueError, match="unknown encoder 'bert'"):
        DeciderStages.from_sections({"decider_stages": {"encoder": "bert"}})
    with pytest.raises(ValueError, match="unknown encoder 'hashing-x'"):
        DeciderStages(encoder="hashing-x")


def test_the_proxies_decider_reads_text_as_its_f_p_was_trained_to(tmp_path) -> None:
    from raytool.decider.fp_checkpoint import recorded_encoder, save_policy_reconstruction
    from raytool.decider.fp_model import PolicyReconstruction

    assert recorded_encoder(None) == "hashing-256"  # no F_P: the env's default
    env = {"top_p": 2, "max_steps": 2, "encoder": "minilm", "candidate_source": "bm25"}
    save_policy_reconstruction(PolicyReconstruction(384, 2, width=8, heads=1, layers=1), {"env": env}, tmp_path / "fp")
    assert recorded_encoder(tmp_path / "fp") == "minilm"


def test_the_filler_trains_on_phrased_suite_tasks_and_retrains_when_its_data_change(tmp_path) -> None:
    """The filler's extra suite tasks carry their phrasing share in their directory name, and a checkpoint trained on
    other data directories (e.g. the templated ones of an earlier default) is not current."""
    import json

    from raytool.pipeline.filler import data_names, filler_suite_paths, trained_on
    from raytool.pipeline.settings import filler_settings

    stage, _ = filler_settings({})
    assert stage.phrasing == 0.5  # the default: half the extra requests in varied language
    assert [p.name for p in filler_suite_paths(tmp_path, stage.phrasing)] == [
        "filler_l1_p50", "filler_l3_p50", "filler_l4_p50"]  # fmt: skip
    assert [p.name for p in filler_suite_paths(tmp_path)] == ["filler_l1", "filler_l3", "filler_l4"]
    assert trained_on(tmp_path) is None
    (tmp_path / "filler.json").write_text(json.dumps({"metrics": {"data": ["/old/run/envs/a", "/old/run/envs/b"]}}))
    assert trained_on(tmp_path) == ["envs/a", "envs/b"]  # the output moved or copied: still the same data
    assert trained_on(tmp_path) != data_names(filler_suite_paths(tmp_path, 0.5))
    with pytest.raises(ValueError, match="phrasing must be a share"):
        filler_settings({"filler": {"phrasing": 2}})


def test_the_main_job_runs_its_stages_in_order_and_records_each_ones_seconds(tmp_path) -> None:
    import json
    import time

    from raytool.pipeline.stages import TIMINGS, MainJob, Stage, run_main_job

    def slow(job: MainJob) -> None:
        time.sleep(0.05)
        job.state["order"] = [*job.state.get("order", []), "slow"]

    stages = (
        Stage(1, "first", "", "", False, lambda job: job.state.update(order=["first"])),
        Stage(2, "slow", "", "", False, slow),
    )
    job = run_main_job(MainJob(out=tmp_path, data_dir=tmp_path, settings={}, make_teacher=lambda: None), stages)
    timings = json.loads((tmp_path / TIMINGS).read_text())
    assert job.state["order"] == ["first", "slow"]
    assert [(t["stage"], t["name"]) for t in timings["stages"]] == [(1, "first"), (2, "slow")]
    assert timings["stages"][1]["seconds"] >= 0.05
    assert timings["total_seconds"] >= sum(t["seconds"] for t in timings["stages"]) - 0.1


def test_a_table_is_made_once_per_key_and_again_when_the_key_or_file_changes(tmp_path) -> None:
    from raytool.pipeline.reports import report_key, report_once

    meta, path, made = tmp_path / "ckpt" / "proposer.json", tmp_path / "reports" / "proposer.json", []
    meta.parent.mkdir()
    meta.write_text('{"epochs": 2}')

    def make() -> str:
        made.append(1)
        return f"table {len(made)}"

    assert report_once(path, report_key(meta, tasks=700), make) == ("table 1", False)
    assert report_once(path, report_key(meta, tasks=700), make) == ("table 1", True)  # kept, not made
    assert report_once(path, report_key(meta, tasks=20), make) == ("table 2", False)  # other settings
    meta.write_text('{"epochs": 3}')  # a retrained checkpoint rewrites its meta
    assert report_once(path, report_key(meta, tasks=20), make) == ("table 3", False)
    path.write_text('{"key": ')  # cut short
    assert report_once(path, report_key(meta, tasks=20), make) == ("table 4", False)
    files = tmp_path / "calls_eval" / "summary.md"  # what a table writes beside its text
    assert report_once(path, report_key(meta, tasks=20), make, outputs=[files]) == ("table 5", False)  # gone
    files.parent.mkdir()
    files.write_text("rows")
    assert report_once(path, report_key(meta, tasks=20), make, outputs=[files]) == ("table 5", True)
    assert len(made) == 5


def test_a_resumed_main_job_prints_the_proposer_table_instead_of_evaluating_again(
    tmp_path, monkeypatch, capsys
) -> None:
    import raytool.evaluation.proposer as evaluation
    from raytool.pipeline.proposer import train_proposer_stage
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    calls = []
    monkeypatch.setattr(evaluation, "evaluate", lambda *args, **kwargs: calls.append(args) or {})
    monkeypatch.setattr(evaluation, "results_table", lambda result: f"| proposer | run {len(calls)} |")
    monkeypatch.setattr(ToolProposer, "load", classmethod(lambda cls, *args, **kwargs: None))
    (tmp_path / "proposer").mkdir()
    (tmp_path / "proposer" / "proposer.json").write_text("{}")  # exists: training is skipped
    datasets = {"seal_tools_dev": ToolDataset({}, []), "seal_tools_test": ToolDataset({}, [])}
    train_proposer_stage(datasets, tmp_path, {})
    train_proposer_stage(datasets, tmp_path, {})
    out = capsys.readouterr().out
    assert len(calls) == 1 and out.count("| proposer | run 1 |") == 2 and "kept from the run" in out
    train_proposer_stage(datasets, tmp_path, {"evaluation": {"baselines": ["bm25"]}})  # another table: made again
    assert len(calls) == 2


def test_a_resumed_main_job_prints_the_complete_call_table_instead_of_filling_again(
    tmp_path, monkeypatch, capsys
) -> None:
    import raytool.evaluation.calls as calls_module
    import raytool.filler.checkpoint as checkpoint
    import raytool.pipeline.filler as stage
    from raytool.filler.filler import ArgumentFiller
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    runs = []

    def evaluate_calls(methods, dataset, out):
        runs.append(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.md").write_text(f"| proposer+filler | run {len(runs)} |")

    monkeypatch.setattr(checkpoint, "is_current", lambda *args, **kwargs: True)
    monkeypatch.setattr(stage, "trained_on", lambda ckpt: [])
    monkeypatch.setattr(stage, "data_names", lambda paths: [])  # current: training is skipped
    monkeypatch.setattr(calls_module, "evaluate_calls", evaluate_calls)
    monkeypatch.setattr(calls_module, "given_candidates", lambda path: {})
    for name in ("ProposerFiller", "OracleTools"):
        monkeypatch.setattr(calls_module, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(ToolDataset, "load", classmethod(lambda cls, *args, **kwargs: ToolDataset({}, [])))
    monkeypatch.setattr(ArgumentFiller, "load", classmethod(lambda cls, *args, **kwargs: None))
    monkeypatch.setattr(ToolProposer, "load", classmethod(lambda cls, *args, **kwargs: None))
    for name in ("filler", "proposer"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.json").write_text("{}")
    stage.train_filler_stage(tmp_path, {}, tmp_path, [])
    stage.train_filler_stage(tmp_path, {}, tmp_path, [])
    out = capsys.readouterr().out
    assert len(runs) == 1 and out.count("| proposer+filler | run 1 |") == 2 and "kept from the run" in out
    (tmp_path / "filler" / "filler.json").write_text('{"retrained": true}')
    stage.train_filler_stage(tmp_path, {}, tmp_path, [])
    assert len(runs) == 2
    (tmp_path / "calls_eval" / "summary.md").unlink()  # the table's files gone: made again, same key
    stage.train_filler_stage(tmp_path, {}, tmp_path, [])
    assert len(runs) == 3
