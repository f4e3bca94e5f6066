"""The main job submitted with `ray job submit` to a real `ray start --head` cluster of its own (free ports, its own
temp dir, its own auth token), from this repository as the uploaded working dir (clusters/runtime_env.yaml)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAY = str(Path(sys.executable).parent / "ray")
JOB_TIMEOUT_S = 1800


@dataclass(frozen=True)
class LocalCluster:
    """A `ray start --head` cluster: its job API address, temp dir, the CLI environment that reaches it (token
    included) and the session id its processes share."""

    address: str
    temp_dir: Path
    env: dict[str, str]
    session: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_pids(cluster_session: int, temp_dir: Path) -> list[int]:
    """Live processes of the cluster: its session (GCS, raylet, dashboard, workers) and the sessions of the jobs'
    entrypoints, whose current directory is the working dir unpacked under the cluster's temp dir."""
    live = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, os.getpid()):
            try:
                if Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    live.append(int(name))
            except (OSError, IndexError):
                continue
    sessions = {cluster_session}
    for pid in live:
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(temp_dir)):
                sessions.add(os.getsid(pid))
        except OSError:
            continue
    ours = []
    for pid in live:
        try:
            if os.getsid(pid) in sessions:
                ours.append(pid)
        except OSError:
            continue
    return ours


def _stop_cluster(cluster_session: int, temp_dir: Path, grace_s: float = 10.0) -> list[int]:
    """SIGTERM the cluster's processes, SIGKILL what is left after `grace_s`; returns the pids still alive (none
    expected). `ray stop` is not used: it stops every Ray process on the machine, other tests' clusters too."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        for pid in _cluster_pids(cluster_session, temp_dir):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait_s
        while _cluster_pids(cluster_session, temp_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
    return _cluster_pids(cluster_session, temp_dir)


@pytest.fixture(scope="module")
def ray_start_cluster() -> Iterator[LocalCluster]:
    """`ray start --head` on free ports with 2 CPUs, bound to 127.0.0.1 where Ray allows it, in a short temp dir of
    its own (its unix sockets live there), token auth on with a fresh token; always torn down."""
    temp_dir = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PYTHONDONTWRITEBYTECODE"))}
    env |= {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    dashboard = _free_port()
    command = [RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(_free_port()),
               "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
               "--ray-client-server-port", str(_free_port()), "--dashboard-agent-listen-port", str(_free_port()),
               "--num-cpus", "2", "--disable-usage-stats", "--temp-dir", str(temp_dir)]  # fmt: skip
    start = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        output, _ = start.communicate(timeout=180)
        assert start.returncode == 0, output
        yield LocalCluster(f"http://127.0.0.1:{dashboard}", temp_dir, env, start.pid)
    finally:
        start.kill()
        left = _stop_cluster(start.pid, temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        assert not left, f"cluster processes still alive after SIGKILL: {left}"


def _job(cluster: LocalCluster, verb: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """`ray job VERB --address CLUSTER ARGS...` from the repository's root."""
    return subprocess.run([RAY, "job", verb, "--address", cluster.address, *args], cwd=ROOT, env=env or cluster.env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.mark.ray
def test_submit_without_the_token_is_refused(ray_start_cluster: LocalCluster) -> None:
    no_token = {k: v for k, v in ray_start_cluster.env.items() if not k.startswith("RAY_AUTH")}
    done = _job(ray_start_cluster, "submit", "--no-wait", "--", "python", "-c", "pass", env=no_token)
    assert done.returncode != 0
    assert "Missing authentication token" in done.stdout + done.stderr


@pytest.mark.ray
@pytest.mark.slow
def test_train_runs_as_a_cluster_job(
    ray_start_cluster: LocalCluster, tmp_path: Path, shared_data: Path, tiny_main_job
) -> None:
    """The main job's second run, submitted to the cluster: on a copy of the first run's output (the
    `tiny_main_job` fixture, run with the console script) every stage with an artifact skips, the rest (imports,
    task building, evaluations) run again on the cluster, and the job ends with the agent's table."""
    out, job_id = tmp_path / "run", f"raytool-train-{secrets.token_hex(4)}"
    shutil.copytree(tiny_main_job.out, out)
    # The default teacher: the embedded model on a vLLM engine actor, started on the cluster (1 CPU), where a stage
    # still needs it.
    entrypoint = ["python", "-m", "raytool", "train", "--data-dir", str(shared_data), "--out", str(out),
                  "--config", str(tiny_main_job.config)]  # fmt: skip
    submit = ["submit", "--submission-id", job_id, "--runtime-env", "clusters/runtime_env.yaml",
              "--entrypoint-num-cpus", "0.5", "--", *entrypoint]  # fmt: skip
    try:
        done = _job(ray_start_cluster, *submit, timeout=JOB_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _job(ray_start_cluster, "stop", job_id)
        logs = _job(ray_start_cluster, "logs", job_id)
        pytest.fail(f"job {job_id} ran past {JOB_TIMEOUT_S} s; its logs:\n{logs.stdout[-20000:]}")
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert f"Job '{job_id}' succeeded" in done.stdout
    skipped = ("stage 4/11: proposer checkpoint", "stage 4/11: filler checkpoint", f"stage 6/11: {out / 'rank'} exists",
               "stage 7/11: F_P", "stage 8/11: decider", "stage 10/11: proxy decider",
               f"stage 11/11: {out / 'agent_eval'} exists")  # fmt: skip
    for stage in ("stage 1/11", *skipped, "| proxy", "| react"):
        assert stage in done.stdout, stage
    assert (out / "decider" / "decider.json").is_file() and (out / "agent_eval" / "summary.json").is_file()
    # the cluster's own record of it: status, logs, and the driver's log file under this cluster's session dir
    status = _job(ray_start_cluster, "status", job_id)
    assert status.returncode == 0 and f"Job '{job_id}' succeeded" in status.stdout, status.stdout + status.stderr
    assert "stage 11/11" in _job(ray_start_cluster, "logs", job_id).stdout
    session = ray_start_cluster.temp_dir / "session_latest"
    assert "stage 11/11" in (session / "logs" / f"job-driver-{job_id}.log").read_text()
    # the code ran from the uploaded working dir (its bytecode was written there), which left out .git
    uploads = [p for p in (session / "runtime_resources" / "working_dir_files").glob("_ray_pkg_*") if p.is_dir()]
    assert len(uploads) == 1, uploads
    assert (uploads[0] / "clusters" / "runtime_env.yaml").is_file() and not (uploads[0] / ".git").exists()
    assert list((uploads[0] / "raytool" / "__pycache__").glob("cli.*.pyc"))
