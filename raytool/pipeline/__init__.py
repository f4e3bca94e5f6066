"""The main job (`raytool train`): one ordered list of stages (`raytool.pipeline.stages.STAGES`), each in its own
module, all settings from one config file (`raytool.pipeline.settings`, sections named below).

    1  benchmarks      Seal-Tools, MetaTool, ToolAlpaca, StableToolBench imported into `datasets/`
    2  suite tasks     verified tasks on each executable suite, `envs/<suite>_l2` (`suites:`)
    3  teacher synth   the teacher's tool choices and rationales for Seal-Tools dev tasks, `synth/` (`synth:`)
    4  proposer        trained on Seal-Tools dev with the rationales, `proposer/`; its table on test_in_domain
                       (`proposer:`, `evaluation:`)
    4  filler          the argument filler on gold calls, `filler/`; complete calls on test_in_domain (`filler:`)
    5  decider tasks   verified level-2 tasks with the proposer's candidates, `envs/decider_{train,test}`
    6  pi_LLM labels   `distill rank` on sampled decider states, `rank/`  (`decider_stages:`)
    7  F_P             policy reconstruction on the labels, `fp/` (`fp:`)
    8  decider         the RLlib decider, argument values from the filler, `decider/` (`decider:`; `--resume`)
    9  decider table   decider vs teacher-only vs proposer-greedy vs oracle on the held-out tasks (+ a gold-values
                       ORACLE row)
    10 agent requests  verified multi-domain requests, `envs/agent_{train,test}`  (`agent:`)
    10 segmenter       the planner's distilled segmenter, `segmenter/` (`segmenter:`)
    10 proxy decider   the proxies' decider on the requests' per-domain sub-tasks, `proxies/decider/`
    11 agent eval      the proxy agent vs single-LLM baselines on the held-out requests, `agent_eval/`

A stage whose artifact exists skips its work and prints its existing results (`Stage.skips`; stage 4's evaluation
tables are kept in `reports/` per checkpoint and settings, `raytool.pipeline.reports`), so a re-run resumes
where the last one stopped. The stage functions are also the building blocks of the catalogue job
(`raytool.train_catalogue`) and of `benchmarks/decider.py`.
"""

from raytool.pipeline.agent_eval import agent_eval_stage
from raytool.pipeline.agent_tasks import build_agent_tasks
from raytool.pipeline.decider import train_decider_stage
from raytool.pipeline.decider_tasks import build_decider_tasks, env_config
from raytool.pipeline.evaluation import evaluate_stage
from raytool.pipeline.fp import train_fp
from raytool.pipeline.log import STAGE_COUNT
from raytool.pipeline.proxies import train_proxies_stage
from raytool.pipeline.rank import label_states
from raytool.pipeline.segmenter import train_segmenter_stage
from raytool.pipeline.settings import (
    TRAIN_SECTIONS,
    AgentStages,
    DeciderStages,
    check_train_config,
    load_train_config,
)
from raytool.pipeline.stages import STAGES, MainJob, Stage, run_main_job

__all__ = [
    "STAGES",
    "STAGE_COUNT",
    "TRAIN_SECTIONS",
    "AgentStages",
    "DeciderStages",
    "MainJob",
    "Stage",
    "agent_eval_stage",
    "build_agent_tasks",
    "build_decider_tasks",
    "check_train_config",
    "env_config",
    "evaluate_stage",
    "label_states",
    "load_train_config",
    "run_main_job",
    "train_decider_stage",
    "train_fp",
    "train_proxies_stage",
    "train_segmenter_stage",
]
