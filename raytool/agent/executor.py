"""Where a wave of proxy jobs runs: the seam between the agent and whatever hosts its proxies.

`ProxyAgent` hands each wave to a `JobExecutor`: `{domain: [job, ...]}` and the catalogue's tool records in,
`{domain: [result, ...]}` (one result per job, in order) out. The agent's own executor runs its `ProxyModel`s in
process or as Ray actors (`ProxyAgent.proxy`); the Serve app brings one that calls the proxy deployments' handles
and retries a job whose replica died (`raytool.serving.app.ServeExecutor`).
"""

from __future__ import annotations

from typing import Any, Protocol

Jobs = dict[str, list[dict[str, Any]]]


class JobExecutor(Protocol):
    def solve(self, jobs: Jobs, catalogue: list[dict[str, Any]]) -> Jobs:
        """Every domain's jobs on that domain's proxy; one result per job, in the jobs' order."""
        ...
