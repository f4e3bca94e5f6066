"""The main job's settings: the sections of `raytool train --config`, each a documented dataclass checked by
`raytool.config` (unknown keys and wrong types name the file and the key path), all checked before any stage runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

NO_FILE = "<train config>"  # how messages name the settings when no --config file was given


@dataclass(frozen=True)
class DeciderStages:
    """Settings of stages 5-9 (the `decider_stages:`, `fp:` and `decider:` sections of `raytool train --config`).

    encoder: the decider env's text features (`DeciderEnvConfig.encoder`) for every decider of the job — the
        labelled states F_P learns from (stage 6-7), the decider (8-9) and the proxies' decider (10), which F_P
        guides and so must read the same observations: `hashing-256` (hashed words) or `minilm` (the shared
        all-MiniLM-L6-v2 sentence vectors, which paraphrases of a request share).
    """

    train_tasks: int = 60
    test_tasks: int = 30
    level: int = 2
    top_p: int = 5
    max_steps: int = 8
    rank_states: int = 300
    arguments: str = "predicted"
    filler_dir: str = ""
    encoder: str = "hashing-256"
    decider: dict[str, Any] | None = None
    fp: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        from raytool.envs.encoders import check_encoder_name

        if self.arguments not in ("predicted", "gold"):
            raise ValueError(f"arguments must be predicted or gold, got {self.arguments!r}")
        check_encoder_name(self.encoder)

    def filler(self, out: Path) -> str:
        """The filler checkpoint the env reads argument values with: `filler_dir` when set, else the stage-4 one
        (`out/filler`); "" (gold values) with `arguments: gold`."""
        if self.arguments != "predicted":
            return ""
        return self.filler_dir or str(out / "filler")

    @classmethod
    def from_sections(cls, settings: dict[str, Any], where: str = NO_FILE) -> DeciderStages:
        """From `raytool train --config` sections (`decider_stages`, `fp`, `decider`), checked by `raytool.config`
        (errors name `where`, the key path and what was expected)."""
        from raytool.config import check_keys, settings_from
        from raytool.decider.fp_train import PolicyTrainConfig
        from raytool.decider.train import DeciderRunConfig

        own = settings.get("decider_stages") or {}
        if isinstance(own, dict):
            known = [f for f in cls.__dataclass_fields__ if f not in ("decider", "fp")]
            check_keys(own, known, where, "decider_stages")
        settings_from(PolicyTrainConfig, settings.get("fp"), where, "fp")
        DeciderRunConfig.from_dict(settings.get("decider"), where)
        stages = settings_from(cls, own, where, "decider_stages")
        return replace(stages, decider=settings.get("decider"), fp=settings.get("fp"))


@dataclass(frozen=True)
class SuiteStage:
    """The `suites:` section (stage 2): `num_tasks` verified level-`level` tasks per executable suite (`seed`), which
    the filler also trains on."""

    level: int = 2
    num_tasks: int = 50
    seed: int = 0


# stage 3's `SynthConfig` (the `synth:` section's keys): 50 Seal-Tools dev tasks in shards of 10, tool choices and
# rationales only (arguments=False: Seal-Tools dev has gold arguments, which the filler trains on)
SYNTH_DEFAULTS = {"limit": 50, "shard_size": 10, "arguments": False}


def synth_config(settings: dict[str, Any], where: str = NO_FILE):
    """Stage 3's `SynthConfig`: `SYNTH_DEFAULTS` with the `synth:` section laid over them."""
    from raytool.config import settings_from
    from raytool.distill.synth import SynthConfig

    return settings_from(SynthConfig, {**SYNTH_DEFAULTS, **(settings.get("synth") or {})}, where, "synth")


@dataclass(frozen=True)
class EvaluationSettings:
    """The `evaluation:` section: `limit` test tasks of the proposer and call tables (None = all), and the
    proposer table's `baselines` (None = all of `raytool.evaluation.proposer.BASELINES`)."""

    limit: int | None = None
    baselines: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FillerStage:
    """The `filler:` section's own keys (the rest are `FillerTrainConfig` fields): `max_tasks` per dataset (None =
    all), the `encoder` (minilm; hashing in tests), `suite_tasks` per level of the suites' extra tasks and the
    `phrasing` share of them written in varied language (`BuildConfig.phrasing`)."""

    max_tasks: int | None = None
    encoder: str = "minilm"
    suite_tasks: int = 90
    phrasing: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.phrasing <= 1.0:
            raise ValueError(f"phrasing must be a share in [0, 1], got {self.phrasing}")


@dataclass(frozen=True)
class AgentStages:
    """Settings of stages 10-11 (the `agent:` section of `raytool train --config`).

    train_tasks / test_tasks: level-`level` requests over all suites (level 4: two suites per request).
    phrasing: share of the training requests written in varied language (`BuildConfig.phrasing`); their
        sub-tasks come from the segmenter's plans. Default: 120 requests (the 60 of the earlier default among
        them), half in varied language: mean success over stage-10 seeds natural / templated twins / held-out level
        4 0.310 / 0.786 / 0.817 (2 seeds), against 0.310 / 0.825 / 0.834 for 60 templated and 0.381 / 0.754 / 0.722
        for 60 half-varied (3 seeds each; one seed's spread is about +-0.07: README, "Requests as people write them").
    methods: what stage 11 compares (`raytool eval agent --method`).
    decider: `DeciderRunConfig` fields of the proxies' decider (default: the `decider:` section's).
    proposer: `ProxyProposerConfig` fields of the proxies' proposer (the main one fine-tuned on the suites'
        sub-tasks in template and varied language; `tasks_per_level: 0` keeps the main one).
    proxy_resources: Ray custom resources per proxy actor in stage 11 (e.g. {"proxy": 1}, see clusters/).
    """

    train_tasks: int = 120
    test_tasks: int = 30
    level: int = 4
    methods: tuple[str, ...] = ("proxy", "react")
    phrasing: float = 0.5
    decider: dict[str, Any] | None = None
    proposer: dict[str, Any] | None = None
    proxy_resources: dict[str, float] | None = None

    @classmethod
    def from_sections(cls, settings: dict[str, Any], where: str = NO_FILE) -> AgentStages:
        """From the `agent` section (its `decider` defaults to the `decider` section), checked by `raytool.config`."""
        from raytool.config import settings_from
        from raytool.decider.train import DeciderRunConfig

        stages = settings_from(cls, settings.get("agent"), where, "agent")
        if stages.decider:
            DeciderRunConfig.from_dict(stages.decider, where, "agent.decider")
        stages.proposer_config(where)
        return replace(stages, decider=stages.decider or settings.get("decider"))

    def proposer_config(self, where: str = NO_FILE):
        """The `proposer` section as a checked `ProxyProposerConfig`."""
        from raytool.config import settings_from
        from raytool.proposer.proxy_tuning import ProxyProposerConfig

        return settings_from(ProxyProposerConfig, self.proposer, where, "agent.proposer")


TRAIN_SECTIONS = ("suites", "synth", "proposer", "filler", "evaluation", "decider_stages", "fp", "decider", "agent",
                  "segmenter", "catalogue")  # fmt: skip


def load_train_config(path: Path | None) -> dict[str, Any]:
    """The sections of a `raytool train --config` file (none: the embedded default's), every one checked at once
    (`check_train_config`): a misspelled key fails before any stage runs, in `raytool.config`'s error shape."""
    from raytool.config import check_keys, read_config

    record = read_config(path)
    where = str(path or NO_FILE)
    check_keys(record, TRAIN_SECTIONS, where, "")
    check_train_config(record, where)
    return record


def filler_settings(settings: dict[str, Any], where: str = NO_FILE):
    """The `filler:` section split and checked: (`FillerStage`, the `FillerTrainConfig` of the remaining keys)."""
    from raytool.config import config_error, settings_from, shown
    from raytool.filler.train import FillerTrainConfig

    section = settings.get("filler") or {}
    if not isinstance(section, dict):
        raise config_error(where, "filler", f"expected a mapping, got {shown(section)}")
    own = set(FillerStage.__dataclass_fields__)
    stage = settings_from(FillerStage, {k: v for k, v in section.items() if k in own}, where, "filler")
    rest = {k: v for k, v in section.items() if k not in own}
    return stage, settings_from(FillerTrainConfig, rest, where, "filler")


def check_train_config(settings: dict[str, Any], where: str) -> None:
    """Every section of a `raytool train --config` file, checked at once (a typo fails before any stage runs)."""
    from raytool.config import config_error, settings_from, shown
    from raytool.planner.segmenter_train import SegmenterTrainConfig
    from raytool.proposer.config import ProposerConfig
    from raytool.train_catalogue import CatalogueJobConfig

    settings_from(SuiteStage, settings.get("suites"), where, "suites")
    if not isinstance(settings.get("synth") or {}, dict):
        raise config_error(where, "synth", f"expected a mapping, got {shown(settings['synth'])}")
    synth_config(settings, where)
    ProposerConfig.from_dict(settings.get("proposer") or {}, where)
    settings_from(EvaluationSettings, settings.get("evaluation"), where, "evaluation")
    filler_settings(settings, where)
    DeciderStages.from_sections(settings, where)
    AgentStages.from_sections(settings, where)
    settings_from(SegmenterTrainConfig, settings.get("segmenter"), where, "segmenter")
    if settings.get("catalogue") is not None:
        CatalogueJobConfig.from_dict(settings["catalogue"], where)
