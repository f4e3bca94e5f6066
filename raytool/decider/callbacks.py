"""`DeciderMetrics`: per-episode task metrics logged by every env runner (success rate, reward, calls per task).

The env's final `info` carries the verifiable outcome (`raytool.envs.decider_env`); these land in the
algorithm's results under `env_runners/decider/...`, averaged over the last `WINDOW` episodes.
"""

from __future__ import annotations

from ray.rllib.callbacks.callbacks import RLlibCallback

WINDOW = 200


class DeciderMetrics(RLlibCallback):
    """See the module docstring."""

    def on_episode_end(self, *, episode, metrics_logger=None, **kwargs) -> None:
        info = episode.get_infos(-1)
        if metrics_logger is None or "success" not in info:
            return
        metrics_logger.log_value("decider/success_rate", float(info["success"]), window=WINDOW)
        metrics_logger.log_value("decider/task_reward", float(info["episode_reward"]), window=WINDOW)
        metrics_logger.log_value("decider/calls_per_task", float(info["calls"]), window=WINDOW)
