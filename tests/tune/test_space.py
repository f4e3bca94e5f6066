"""The sweep-file loader: every file in tune_configs/ loads into Tune objects; bad files fail naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytool.tune.space import Dimension, SweepFileError, load_sweep, sweep_from_dict

TUNE_CONFIGS = Path(__file__).resolve().parents[2] / "tune_configs"
BASE = {"decider": {"iterations": 10}, "space": {"lambda1": {"grid": [0.0, 0.5]}, "lambda2": {"grid": [0.0, 0.1]}}}


def test_the_folder_has_sweep_files() -> None:
    assert len(sorted(TUNE_CONFIGS.glob("*.yaml"))) >= 3


@pytest.mark.parametrize("path", sorted(TUNE_CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_tune_config_loads_into_tune_objects(path: Path) -> None:
    from ray import tune
    from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler

    sweep = load_sweep(path)
    assert {"lambda1", "lambda2", "sigma"} <= set(sweep.space), "the guidance weights are what the sweeps are for"
    config = sweep.tune_config()
    assert config.metric == "success" and config.mode == "max" and config.num_samples >= 1
    assert config.search_alg is not None
    assert isinstance(config.scheduler, (AsyncHyperBandScheduler, FIFOScheduler))
    run = sweep.run_config_obj("/tmp/raytool-tune-test")
    assert run.failure_config.max_failures >= 1 and run.name == sweep.name
    space = sweep.param_space()
    for key, dim in sweep.dimensions.items():  # own searchers: domains in param_space; others: in the searcher
        if sweep.algorithm in ("grid", "random"):
            assert space[key] == dim.domain() or isinstance(space[key], (dict, tune.search.sample.Domain))
        else:
            assert key not in space
    sampled = {k: d.from_unit(0.5) for k, d in sweep.dimensions.items()}
    assert sweep.trial_run(sampled).training["lambda1"] == sampled.get("lambda1", sweep.space.get("lambda1"))


def test_grid_space_and_trial_config() -> None:
    sweep = sweep_from_dict({**BASE, "space": {**BASE["space"], "hidden": {"choice": [16, 32]}, "seed": 3},
                             "search": {"algorithm": "random", "num_samples": 2}})  # fmt: skip
    space = sweep.param_space()
    assert space["lambda1"] == {"grid_search": [0.0, 0.5]} and space["seed"] == 3
    run = sweep.trial_run({"lambda1": 0.5, "lambda2": 0.1, "hidden": 32, "seed": 3})
    assert run.training == {"lambda1": 0.5, "lambda2": 0.1} and run.hidden == 32 and run.seed == 3
    assert run.iterations == 10


def test_asha_and_failure_settings_reach_tune() -> None:
    sweep = sweep_from_dict({**BASE, "scheduler": {"grace_period": 5, "reduction_factor": 3, "max_t": 10},
                             "failure": {"max_failures": 4}, "stop": {"training_iteration": 10}})  # fmt: skip
    scheduler = sweep.scheduler_obj()
    assert scheduler._max_t == 10 and scheduler._reduction_factor == 3 and scheduler._time_attr == "training_iteration"
    run = sweep.run_config_obj("/tmp/x")
    assert run.failure_config.max_failures == 4 and run.stop == {"training_iteration": 10}


def test_dimensions_map_the_unit_interval_onto_their_values() -> None:
    assert Dimension("uniform", (0.0, 2.0)).from_unit(0.25) == pytest.approx(0.5)
    assert Dimension("loguniform", (1e-4, 1e-2)).from_unit(0.5) == pytest.approx(1e-3)
    assert Dimension("randint", (2, 6)).from_unit(0.6) == 4 and Dimension("randint", (2, 6)).from_unit(0.0) == 2
    assert [Dimension("choice", ("a", "b", "c")).from_unit(u) for u in (0.0, 0.5, 0.99)] == ["a", "b", "c"]
    assert Dimension("randint", (2, 6)).from_unit(0.999) == 5  # high is exclusive, as in tune.randint


def test_bayes_search_builds_a_limited_gp_searcher() -> None:
    from raytool.tune.searcher import GaussianProcessSearch

    sweep = sweep_from_dict({"space": {"lambda1": {"uniform": [0.0, 1.0]}, "sigma": 0.3},
                             "search": {"algorithm": "bayes", "max_concurrent": 2}})  # fmt: skip
    limiter = sweep.search_alg()
    assert isinstance(limiter.searcher, GaussianProcessSearch) and limiter.max_concurrent == 2
    assert sweep.param_space() == {"sigma": 0.3}


BAD = [
    ({"spaces": {}}, "<top>: unknown key 'spaces'"),
    ({"space": {}}, "space: a non-empty mapping"),
    ({"space": {"lambda3": 0.1}}, "space.lambda3: not a decider setting"),
    ({"space": {"num_env_runners": {"grid": [1, 2]}}}, "space.num_env_runners: not a decider setting"),
    ({"space": {"lambda1": {"gaussian": [0, 1]}}}, "space.lambda1: a plain value or one sampler"),
    ({"space": {"lambda1": {"uniform": [1.0, 0.0]}}}, "space.lambda1.uniform: needs low < high"),
    ({"space": {"lambda1": {"loguniform": [0.0, 1.0]}}}, "and low > 0"),
    ({"space": {"lambda1": {"uniform": [0.0, 1.0]}}}, "search.algorithm: grid needs every swept key as a grid"),
    ({"space": {"sigma": {"grid": [-0.1, 0.2]}}}, "space: a sampled config is invalid"),
    ({**BASE, "search": {"algorithm": "nonsense"}}, "search.algorithm: unknown 'nonsense'"),
    ({**BASE, "search": {"algorithm": "bayes"}}, "bayes does not take grid dimensions"),
    ({**BASE, "search": {"num_samples": 0}}, "search.num_samples: expected a positive integer"),
    ({**BASE, "search": {"samples": 2}}, "search: unknown key 'samples'"),
    ({**BASE, "metric": "accuracy"}, "metric: 'accuracy' is not reported"),
    ({**BASE, "mode": "maximum"}, "mode: must be max or min"),
    ({**BASE, "scheduler": {"type": "pbt"}}, "scheduler.type: asha or fifo"),
    ({**BASE, "scheduler": {"max_t": 50}}, "scheduler.max_t: expected an integer in [1, decider.iterations = 10]"),
    ({**BASE, "eval_every": 2, "scheduler": {"grace_period": 3}}, "scheduler.grace_period: a multiple of eval_every"),
    ({**BASE, "decider": {"iterations": 10, "num_runners": 2}}, "decider: unknown key 'num_runners'"),
    ({**BASE, "loggers": ["csv", "wandb"]}, "loggers: a list drawn from"),
    ({**BASE, "resources": {"trial_cpus": 0}}, "resources.trial_cpus: expected a positive number"),
    ({**BASE, "stop": {"training_iteration": "ten"}}, "stop: expected a mapping of reported metric -> number"),
]


@pytest.mark.parametrize(("record", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_sweep_files_name_the_file_and_field(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(record))
    with pytest.raises(SweepFileError) as err:
        load_sweep(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)


def test_unreadable_sweep_files(tmp_path: Path) -> None:
    with pytest.raises(SweepFileError, match="no such sweep file"):
        load_sweep(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("space: [unclosed\n")
    with pytest.raises(SweepFileError, match="not valid YAML"):
        load_sweep(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(SweepFileError, match="a sweep file is a mapping"):
        load_sweep(tmp_path / "list.yaml")


@pytest.mark.parametrize("path", sorted(TUNE_CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_placement_uses_only_the_cluster_roles(path: Path) -> None:
    from raytool.tune.trainable import TrialSetup, trial_resources

    sweep = load_sweep(path)
    bundles = trial_resources(TrialSetup(sweep, {}, {}, None)).bundles
    run = sweep.run_config()
    assert len(bundles) == 1 + run.num_env_runners and bundles[0]["CPU"] == sweep.resources.get("trial_cpus", 0.5)
    for bundle in bundles:
        assert set(bundle) - {"CPU"} <= {"teacher", "rollout", "proxy"}, bundle
