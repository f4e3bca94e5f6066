"""The Serve application: `Router` (FastAPI ingress) in front of one `ProxyDeployment` per domain.

    POST /v1/solve   {"query": ..., "domain"?: ..., "tools"?: [...], "options"?: {...}}  -> tool calls (OpenAI shape)
    POST /v1/echo    the same request through auth and validation (and `?through=proxy` one proxy hop), echoed
    GET  /healthz    the router's domains and whether it has a planner

The router plans the request like the agent (`raytool.agent.agent.ProxyAgent`: rule plan + domain router, or the teacher
in the `Planner` deployment when the app has one: `raytool.serving.planner`), sends each wave's jobs to the domains'
proxy deployments through their handles (a job whose replica dies is retried once on another), merges the calls in order
and answers. `build_app(args)` is the Serve config's `import_path` (`raytool.serving.app:build_app`); args: `proposer`,
`decider` (checkpoints every proxy loads unless `proxies` names its own per domain), `domains` (default: the three
executable suites), `token` (bearer auth), `domain_router` (`proposer` | `bm25`: which domain a piece of a request goes
to), `teacher` (a `TeacherConfig` record: serve a `Planner` with that teacher), `planner` (`PlannerConfig` fields other
than `mode`, which each request chooses: `options.planner`, by default `auto` with a planner and `never` without) and
`catalogues` (`{domain: dataset dir}`: a user's catalogue served as a domain, what `raytool train --tools` writes; a
request to it — named by `domain`, or any request when the app serves catalogue domains only and one of them — is
answered over that catalogue's tools like a request that carries its own `tools`: one job, not executable)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from ray import serve
from ray.exceptions import RayActorError

from raytool.agent.agent import AgentConfig, ProxyAgent
from raytool.agent.proxy import ProxyConfig, ProxyModel, missing_values
from raytool.planner.planner import PlannerConfig
from raytool.serving.http import TOKEN_ENV, ApiError, check_token, harden
from raytool.serving.planner import PlannerDeployment, ServedTeacher
from raytool.serving.schema import (
    ExecutedCall,
    FunctionCall,
    MissingValues,
    OpenAIToolCall,
    SolveRequest,
    SolveResponse,
)
from raytool.teacher.backend import TeacherConfig

MAX_BODY_BYTES = 1_000_000
RETRYABLE = (RayActorError,)  # the replica died or cannot be reached (ActorDiedError, ActorUnavailableError)

app = harden(FastAPI(title="raytool", version="0.1.0"), MAX_BODY_BYTES)  # before @serve.ingress: Serve copies it


CHECKPOINT_KEYS = ("proposer", "decider", "filler")  # the `ProxyConfig` fields a `user_config` may swap


@serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=8)
class ProxyDeployment:
    """One domain's `ProxyModel`; `user_config` {"proposer", "decider"} swaps the checkpoint in place (the new
    model is loaded first, then replaces the old in one assignment: requests in flight finish on the old one)."""

    def __init__(self, domain: str, proposer: str, decider: str, filler: str = "", theta: float = 0.0,
                 need: float = 0.0) -> None:  # fmt: skip
        from ray.serve.metrics import Counter, Histogram

        self.domain = domain
        self.model = ProxyModel(domain, ProxyConfig(proposer, decider, filler=filler, theta=theta, need=need))
        self.jobs = Counter("raytool_proxy_jobs", description="sub-tasks solved by a proxy", tag_keys=("domain",))
        self.seconds = Histogram("raytool_proxy_solve_seconds", description="a proxy's time per batch of sub-tasks",
                                 boundaries=[0.01, 0.03, 0.1, 0.3, 1, 3, 10], tag_keys=("domain",))  # fmt: skip

    @property
    def checkpoint(self) -> dict[str, str]:
        """The loaded model's proposer, decider and filler directories."""
        return {key: getattr(self.model.config, key) for key in CHECKPOINT_KEYS}

    def reconfigure(self, user_config: dict[str, Any]) -> None:
        current = self.checkpoint
        wanted = {key: user_config.get(key) or current[key] for key in CHECKPOINT_KEYS}
        if wanted != current:
            self.model = ProxyModel(self.domain, replace(self.model.config, **wanted))  # the gate's settings kept

    def solve(self, jobs: list[dict[str, Any]], catalogue: list[dict[str, Any]]) -> list[dict[str, Any]]:
        began = time.perf_counter()
        results = self.model.solve(jobs, catalogue)
        self.jobs.inc(len(jobs), tags={"domain": self.domain})
        self.seconds.observe(time.perf_counter() - began, tags={"domain": self.domain})
        return results

    def check_health(self) -> None:
        """Serve's health check: the model is loaded (a replica failing it 3 times is replaced)."""
        if self.model is None or self.model.module is None:
            raise RuntimeError(f"{self.domain}: no model loaded")

    def echo(self, payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    def info(self) -> dict[str, Any]:
        return {"domain": self.domain, "checkpoint": self.checkpoint, "pid": os.getpid()}


class ServeExecutor:
    """The agent's `JobExecutor` in the Serve app: each domain's jobs go to its proxy deployment's handle; a job whose
    replica died under it (`RayActorError`) is sent once more, to another replica, within the request's `deadline`
    (`retries` counts them)."""

    def __init__(self, handles: dict[str, Any], deadline: float) -> None:
        self.handles, self.deadline, self.retries = handles, deadline, 0

    def solve(self, jobs: dict[str, list[dict]], catalogue: list[dict[str, Any]]) -> dict[str, list[dict]]:
        calls = {d: self.handles[d].solve.remote(jobs[d], catalogue) for d in jobs}
        return {d: self.result(d, response, jobs[d], catalogue) for d, response in calls.items()}

    def result(self, domain: str, response, jobs, catalogue, retried: bool = False):
        """The answer of one handle call; a dead replica's job retried once (then a 503), past the deadline a 504."""
        try:
            return response.result(timeout_s=max(self.deadline - time.monotonic(), 0.01))
        except TimeoutError:
            response.cancel()
            raise ApiError(504, "timeout", f"the {domain} proxy did not answer within the request's budget") from None
        except RETRYABLE:  # a replica died under the request: once more, on another replica
            if retried:
                raise ApiError(503, "unavailable", f"the {domain} proxy died twice under the request") from None
            self.retries += 1
            again = self.handles[domain].solve.remote(jobs, catalogue)
            return self.result(domain, again, jobs, catalogue, retried=True)


def _catalogue(domains: list[str]):
    from raytool.envs.suites import get_suite
    from raytool.planner.domain_router import domain_pools

    catalogue = {t.name: t.spec for name in domains for t in get_suite(name).tools.values()}
    return catalogue, domain_pools(list(catalogue.values()), domains)


def _answer(
    calls: list[dict[str, Any]],
    domains: list[str],
    plan: str,
    timings: dict[str, float],
    execute: bool,
    outputs: list[Any] | None = None,
    specs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The response body: the calls in the OpenAI tool-call shape, the required values each call lacks (`missing`;
    from the proxy, else from `specs`), and, with `execute`, their results."""
    missing = [c["missing"] if "missing" in c else missing_values((specs or {}).get(c["name"]), c.get("arguments"))
               for c in calls]  # fmt: skip
    answer = SolveResponse(
        tool_calls=[OpenAIToolCall(id=f"call_{i}", function=FunctionCall(name=c["name"], arguments=json.dumps(
            c["arguments"]))) for i, c in enumerate(calls)],
        domains=domains, plan=plan, timings=timings,
        missing=[MissingValues(id=f"call_{i}", parameters=list(m)) for i, m in enumerate(missing) if m],
        no_tool=not calls,  # the proxies answered that no served tool fits the request
    )  # fmt: skip
    if execute:
        outputs = outputs or []
        answer.results = [ExecutedCall(id=f"call_{i}", status=c["status"], output=outputs[i] if i < len(outputs)
                                       else None) for i, c in enumerate(calls)]  # fmt: skip
    return answer.model_dump(exclude_none=False, exclude={"request_id"} | (set() if execute else {"results"}))


# Everything the router's routes use must be defined above: `@serve.ingress` pickles them with the globals
# that exist when the class is decorated.
@serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=32)
@serve.ingress(app)
class Router:
    """The ingress (module docstring)."""

    def __init__(self, proxies: dict[str, Any], proposer: str, token: str | None = None, domain_router: str = "bm25",
                 planner=None, planner_config: dict[str, Any] | None = None, filler: str = "",
                 catalogues: dict[str, list[dict[str, Any]]] | None = None) -> None:  # fmt: skip
        self.handles = proxies
        self.catalogues = dict(catalogues or {})  # catalogue domains: their tools, served like a request's own
        self.planner = planner
        self.planner_config = PlannerConfig(**(planner_config or {}))
        self.token = token or None
        if self.token:  # read by BearerAuth in this replica's process
            os.environ[TOKEN_ENV] = self.token
        self.catalogue, self.pools = _catalogue(sorted(set(proxies) - set(self.catalogues)))
        # the proxies read argument values with `filler` (the router only needs to know that there is one)
        self.config = AgentConfig(proxy=ProxyConfig(proposer=proposer, decider="", filler=filler),
                                  domain_router=domain_router,
                                  parallel=True)  # fmt: skip
        self.work_dir = tempfile.mkdtemp(prefix="raytool-router-")
        self.domain_router = None  # shared by requests over all domains (a `proposer` one holds the proposer)

    @app.get("/healthz")
    def healthz(self) -> dict[str, Any]:
        return {"status": "ok", "domains": sorted(self.handles), "planner": self.planner is not None}

    @app.post("/v1/echo")
    async def echo(self, request: Request, body: SolveRequest, through: str = "router") -> dict[str, Any]:
        """The router's path without the models (latency checks): auth and validation, echoed by the router
        (`through=router`) or after one proxy round trip (`through=proxy`)."""
        check_token(request, self.token)
        payload = body.model_dump()
        if through != "proxy":
            return payload
        domain = body.domain if body.domain in self.handles else sorted(self.handles)[0]
        return await self.handles[domain].echo.remote(payload)

    @app.post("/v1/solve")
    def solve(self, request: Request, body: SolveRequest) -> dict[str, Any]:
        """The request's complete calls (`_answer`), with its `request_id` (also the `X-Request-ID` header). Nothing
        outside the request changes: suite calls run on a fresh simulated world of the request's own (`world_seed`),
        a catalogue's calls are only returned. So a client may retry a request safely (after a 503 or a dropped
        connection): the same request gets the same calls."""
        check_token(request, self.token)
        return {**self._solve(body), "request_id": request.state.request_id}

    def _solve(self, body: SolveRequest) -> dict[str, Any]:
        began = time.perf_counter()
        served = sorted(set(self.pools) | set(self.catalogues))
        if body.domain is not None and body.domain not in served:
            raise ApiError(422, "unknown_domain", f"domain {body.domain!r} is not served (served: "
                                                  f"{', '.join(served)})")  # fmt: skip
        mode = body.options.planner or ("auto" if self.planner is not None else "never")
        if mode != "never" and self.planner is None:
            raise ApiError(422, "no_planner", "this server has no teacher to plan with: use options.planner 'never'")
        deadline = time.monotonic() + body.options.timeout_s
        if body.tools is not None:
            tools = [{"name": t.name, "description": t.description,
                      "parameters": t.parameters or {"type": "object", "properties": {}, "required": []}}
                     for t in body.tools]  # fmt: skip
            return self._solve_catalogue(body.query, body.domain or sorted(self.handles)[0], tools, body, began,
                                         deadline)  # fmt: skip
        domain = body.domain if body.domain in self.catalogues else None
        if body.domain is None and self.catalogues and not self.pools:  # an app of catalogue domains only
            if len(self.catalogues) > 1:
                raise ApiError(422, "domain_required", "this server has several catalogues: name one in `domain` ("
                                                       f"{', '.join(sorted(self.catalogues))})")  # fmt: skip
            domain = next(iter(self.catalogues))
        if domain is not None:
            return self._solve_catalogue(body.query, domain, self.catalogues[domain], body, began, deadline)
        pools = {body.domain: self.pools[body.domain]} if body.domain else self.pools
        config = AgentConfig(proxy=self.config.proxy, domain_router=self.config.domain_router, parallel=True,
                             planner=replace(self.planner_config, mode=mode))  # fmt: skip
        teacher = ServedTeacher(self.planner, deadline) if self.planner is not None else None
        shared = body.domain is None  # requests over all domains share one router
        executor = ServeExecutor(self.handles, deadline)
        agent = ProxyAgent(config, self.catalogue, teacher, self.work_dir, pools, log=lambda _: None,
                           executor=executor, domain_router=self.domain_router if shared else None)  # fmt: skip
        if shared and self.domain_router is None:
            self.domain_router = agent.domain_router
        result = agent.run(body.query, world_seed=body.options.world_seed)
        timings = {"total_s": round(time.perf_counter() - began, 4), "retries": float(executor.retries),
                   "teacher_calls": float(result.ledger.teacher_calls)}  # fmt: skip
        return _answer(result.outcome.calls, sorted({j["domain"] for j in result.jobs}), result.plan.source,
                       timings, body.options.execute, result.outcome.outputs, self.catalogue)  # fmt: skip

    def _solve_catalogue(self, query: str, domain: str, catalogue: list[dict[str, Any]], body: SolveRequest,
                         began: float, deadline: float) -> dict[str, Any]:  # fmt: skip
        """A catalogue (the client's own tools, or a served catalogue domain's): one job, to `domain`'s proxy, over
        those tools only; not executable. Argument values come from the proxy's filler (none without one: the
        binder has no gold)."""
        from raytool.tools.task import Task

        names = [tool["name"] for tool in catalogue]
        if len(set(names)) != len(names):
            raise ApiError(422, "invalid_request", "tool names must be unique")
        task = Task(id="query", query=query, tools=tuple(names), source="query")
        executor = ServeExecutor(self.handles, deadline)
        agent = ProxyAgent(self.config, {}, None, self.work_dir, {domain: []}, log=lambda _: None, executor=executor)
        job = {"task": task.to_dict(), "pool": names}
        (result,) = agent.execute({domain: [(0, 0, job)]}, catalogue).values()
        timings = {"total_s": round(time.perf_counter() - began, 4), "retries": float(executor.retries)}
        plan = "catalogue" if domain in self.catalogues and body.tools is None else "client-tools"
        return _answer(result["calls"], [domain], plan, timings, body.options.execute,
                                 [c.get("output") for c in result["calls"]])  # fmt: skip


def build_app(args: dict[str, Any]):
    """The application from Serve config `args` (module docstring)."""
    from raytool.envs.suites import SUITE_NAMES
    from raytool.serving.config import check_app_args

    check_app_args(args, "build_app args")
    domains = list(args.get("domains") or SUITE_NAMES)
    catalogues = {domain: _catalogue_tools(path) for domain, path in (args.get("catalogues") or {}).items()}
    own = args.get("proxies") or {}
    proxies = {}
    for domain in domains:
        checkpoint = {"proposer": args["proposer"], "decider": args["decider"], "filler": args.get("filler") or "",
                      **own.get(domain, {})}  # fmt: skip
        proxies[domain] = ProxyDeployment.options(name=f"ProxyModel-{domain}").bind(
            domain, _path(checkpoint["proposer"]), _path(checkpoint["decider"]),
            _path(checkpoint["filler"]) if checkpoint["filler"] else "", float(args.get("theta", 0.0)),
            float(args.get("need", 0.0)),
        )  # fmt: skip
    planner, planner_config = None, dict(args.get("planner") or {})
    if args.get("teacher"):  # the replica gets the teacher's resources (a deployments entry may override them)
        teacher = TeacherConfig.from_dict(args["teacher"])
        resources = {"num_cpus": teacher.num_cpus, "num_gpus": teacher.num_gpus, "resources": teacher.resources}
        planner = PlannerDeployment.options(ray_actor_options=resources).bind(args["teacher"])
        if teacher.backend not in ("vllm", "openai"):  # it cannot constrain its output to the plan's JSON Schema
            planner_config.setdefault("structured", False)
    return Router.bind(proxies, _path(args["proposer"]), args.get("token"), args.get("domain_router", "bm25"), planner,
                       planner_config, _path(args["filler"]) if args.get("filler") else "", catalogues)  # fmt: skip


def _catalogue_tools(path: str) -> list[dict[str, Any]]:
    """A served catalogue's tools (`ToolSpec.to_dict()` records) from its dataset directory."""
    from raytool.tools.dataset import ToolDataset

    return [spec.to_dict() for spec in ToolDataset.load(_path(path)).tools.values()]


def _path(value: str) -> str:
    """Checkpoint paths as replicas see them: `~` expanded (relative ones are resolved by `raytool serve`)."""
    return str(Path(value).expanduser())
