"""Agent benchmark: the proxy agent against single-LLM ReAct, CoT and DFS on held-out multi-domain requests,
plus skills, the parallel speed-up, determinism and the ablations.

    python benchmarks/agent.py [--limit N] [--repeats 3]

Uses the main job's artifacts in $RAYTOOL_CACHE/run (run `make train` first): the proposer, F_P, the proxies'
decider (`proxies/decider`, trained on the sub-tasks of `envs/agent_train`), and the held-out level-4 requests
`envs/agent_test` (two suites each). The teacher is the embedded SmolLM2-135M-Instruct on a vLLM engine (Ray actor).
Everything goes to $RAYTOOL_CACHE/bench/agent/:

    main/        proxy, react, cot, dfs (`raytool eval agent`), argument values from the main job's filler for all
                 four, and proxy-gold-args (the proxy given the gold values: an ORACLE row): metrics.json per
                 method, summary.md, plots/
    repeat/      proxy and cot again, same seed: every metric compared with main/ (determinism)
    parallel     proxy execution with one Ray actor per domain vs in-process one after another, median of
                 --repeats, side by side; one request's trace (jobs overlapping in time)
    train_runs/  proxy and cot on the training requests: their successful trajectories are mined for skills
    skills.json  the mined skills; deciders/skills: the proxies' decider retrained with them as macro-actions
    ablation/    proxy (with skills), no-skills, no-planner, no-js, no-tau, rationale-loss (`raytool eval ablation`),
                 and skills-not-retrained (the skills offered to the decider trained without them)
Evaluations whose metrics.json exists are not rerun (`--fresh` reruns them); trained deciders are reused.

Finally `scripts/readme_results.py` rewrites the README's results section from main/ and ablation/.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from raytool.paths import cache_dir
from raytool.tables import format_table

RUN = cache_dir() / "run"
OUT = cache_dir() / "bench" / "agent"
RATIONALE_PROPOSER = cache_dir() / "bench" / "proposer" / "seal_dev_alpha0.5"
ORACLE = "proxy-gold-args"  # the proxy given the tasks' gold argument values: an ORACLE row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="held-out requests (default: all)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the parallel timing")
    parser.add_argument("--fresh", action="store_true", help="rerun evaluations whose results exist")
    args = parser.parse_args()

    import ray
    import torch

    from raytool.agent.agent import AgentConfig, ProxyAgent, task_domains
    from raytool.agent.proxy import ProxyConfig
    from raytool.agent.trace import format_trace
    from raytool.agent.train import train_proxy_decider
    from raytool.decider.train import SUMMARY, DeciderRunConfig
    from raytool.evaluation.ablation import ablation_configs
    from raytool.evaluation.agent import evaluate_agent, sample_tasks
    from raytool.pipeline.proxies import proxy_proposer
    from raytool.planner.planner import PlannerConfig
    from raytool.skills.mining import mine_command
    from raytool.teacher.backend import TeacherConfig, make_teacher
    from raytool.tools.dataset import ToolDataset

    torch.set_num_threads(1)
    for need in ("proposer", "fp", "proxies/decider", "agent/subtasks", "envs/agent_test", "envs/agent_train"):
        if not (RUN / need).exists():
            raise SystemExit(f"{RUN / need} is missing: run `make train` (the main job) first")
    ray.init(address="local", include_dashboard=False, log_to_driver=False)
    teacher = make_teacher(TeacherConfig())
    test = sample_tasks(ToolDataset.load(RUN / "envs" / "agent_test"), args.limit, 0)
    train = ToolDataset.load(RUN / "envs" / "agent_train")
    # argument values from the main job's filler for every method (the baselines share the proxies' argument source);
    # the gold-argument proxy is an ORACLE row
    proxy = ProxyConfig(
        proposer=str(proxy_proposer(RUN)), decider=str(RUN / "proxies" / "decider"), filler=str(RUN / "filler")
    )
    base = AgentConfig(proxy=proxy)
    oracle = {ORACLE: dataclasses.replace(base, proxy=dataclasses.replace(proxy, filler=""))}
    meta = {"data": str(RUN / "envs" / "agent_test"), "format": "raytool"}

    def todo(folder: Path, methods: list[str]) -> list[str]:  # methods without results yet (reruns: --fresh)
        return [m for m in methods if args.fresh or not (folder / m / "metrics.json").exists()]

    # 1. the four methods, same teacher, tools and candidates
    evaluate_agent(todo(OUT / "main", ["proxy", "react", "cot", "dfs", ORACLE]), test, OUT / "main", teacher, base,
                   meta=meta | {"variants": oracle})  # fmt: skip
    print((OUT / "main" / "summary.md").read_text())

    # 2. determinism: the same eval again (the proxy, and CoT for the teacher's generations)
    evaluate_agent(todo(OUT / "repeat", ["proxy", "cot"]), test, OUT / "repeat", teacher, base, meta=meta)
    rows = []
    for method in ("proxy", "cot"):
        first = json.loads((OUT / "main" / method / "metrics.json").read_text())["metrics"]
        second = json.loads((OUT / "repeat" / method / "metrics.json").read_text())["metrics"]
        differ = sorted(k for k in first if first[k] != second.get(k))
        rows.append([method, len(first), "yes" if not differ and first.keys() == second.keys() else f"no: {differ}"])
    print(format_table(["method", "metrics", "identical in a second run (same seed)"], rows))

    # 3. parallel speed-up of the proxies' execution (rule planner: no teacher time in either arm)
    pools = task_domains(test.tasks, test.tools)
    timings: dict[str, list[float]] = {"one Ray actor per domain": [], "in-process, one after another": []}
    agents = {}
    for name, parallel in (("one Ray actor per domain", True), ("in-process, one after another", False)):
        config = dataclasses.replace(base, planner=PlannerConfig(mode="never"), parallel=parallel)
        agents[name] = ProxyAgent(config, test.tools, None, OUT / "work" / f"parallel-{parallel}", pools)
        agents[name].start()
    for _ in range(args.repeats):
        for name, agent in agents.items():
            start = time.perf_counter()
            agent.run_tasks(test.tasks)
            timings[name].append(time.perf_counter() - start)
    trace = agents["one Ray actor per domain"].run("", task=test.tasks[0])
    for agent in agents.values():
        agent.close()
    seq = statistics.median(timings["in-process, one after another"])
    rows = [[name, f"{statistics.median(t):.2f}", f"{1000 * statistics.median(t) / len(test.tasks):.0f}",
             f"{seq / statistics.median(t):.2f}x"] for name, t in timings.items()]  # fmt: skip
    print(format_table(["proxy execution", "median s", "ms / request", "speed-up"], rows))
    print(format_trace(trace))

    # 4. skills: mined from the successful trajectories of the decider (proxy) and the teacher (cot) on training
    evaluate_agent(todo(OUT / "train_runs", ["proxy", "cot"]), train, OUT / "train_runs", teacher, base,
                   meta={"data": str(RUN / "envs" / "agent_train"), "format": "raytool"})  # fmt: skip
    mined = mine_command([OUT / "train_runs" / m / "trajectories.jsonl" for m in ("proxy", "cot")],
                         RUN / "envs" / "agent_train", OUT / "skills.json")  # fmt: skip
    print(f"skills: {mined['skills']} mined from {mined['successful']} successful trajectories: {mined['names']}")
    print(f"skills could save: {json.dumps(mined['savings'])}")
    run = DeciderRunConfig.from_dict(json.loads((RUN / "proxies" / "decider" / SUMMARY).read_text())["run"])
    skilled = train_proxy_decider(RUN / "agent" / "subtasks", RUN / "fp", run, OUT / "deciders" / "skills",
                                  skills=str(OUT / "skills.json"), filler=proxy.filler)  # fmt: skip
    with_skills = dataclasses.replace(
        base, proxy=dataclasses.replace(base.proxy, decider=str(skilled), skills=str(OUT / "skills.json"))
    )

    # 5. ablations (the full agent now has skills)
    rationale = RATIONALE_PROPOSER if (RATIONALE_PROPOSER / "proposer.json").exists() else None
    configs = ablation_configs(with_skills, RUN / "agent" / "subtasks", RUN / "fp", OUT / "ablation", rationale,
                               RUN / "proxies" / "decider")  # fmt: skip
    # the mined skills offered to the decider trained without them (no retraining)
    configs["skills-not-retrained"] = dataclasses.replace(base, proxy=dataclasses.replace(base.proxy,
                                                          skills=str(OUT / "skills.json")))  # fmt: skip
    evaluate_agent(todo(OUT / "ablation", list(configs)), test, OUT / "ablation", teacher, with_skills,
                   meta=meta | {"variants": configs})  # fmt: skip
    print((OUT / "ablation" / "summary.md").read_text())
    teacher.close()
    done = subprocess.run([sys.executable, str(Path(__file__).parent.parent / "scripts" / "readme_results.py"),
                           "--eval-dir", str(OUT / "main"), "--ablation-dir", str(OUT / "ablation")])  # fmt: skip
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
