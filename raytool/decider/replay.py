"""`DeciderReplayBuffer`: RLlib's `EpisodeReplayBuffer` with the n-step count of each sampled transition made exact.

`EpisodeReplayBuffer.sample(n_step=n, sample_episodes=True)` sums the discounted rewards of the transitions it
finds after the sampled step, k = min(n, steps left in the stored episode or chunk), but records `n_step = n` for
every item. The learner discounts the bootstrap by gamma^n_step, so a tail cut short by the episode's end (or by
the end of a chunk still being collected) would be discounted by gamma^n instead of gamma^k. Worse, such a tail
loses the episode's end: RLlib slices [t, t + n), and a slice that runs past the last step is not marked terminated
or truncated, so the learner would bootstrap from the final observation. Here every sampled item's `n_step` is set
to the k that was actually summed, and an item whose k steps reach the end of a finished episode carries that
episode's terminated / truncated flag.
"""

from __future__ import annotations

import numpy as np
from ray.rllib.env.utils.infinite_lookback_buffer import InfiniteLookbackBuffer
from ray.rllib.utils.replay_buffers.episode_replay_buffer import EpisodeReplayBuffer

N_STEP = "n_step"


class DeciderReplayBuffer(EpisodeReplayBuffer):
    """See the module docstring. Only fixed integer `n_step` and single transitions (`batch_length_T` unset)."""

    def sample(self, num_items: int | None = None, *, n_step: int = 1, **kwargs):
        episodes = super().sample(num_items=num_items, n_step=n_step, **kwargs)
        if n_step == 1:  # one-step slices never run past an episode's end: RLlib's counts and flags are exact
            return episodes
        for episode in episodes:
            stored = self.episodes[self.episode_id_to_index[episode.id_] - self._num_episodes_evicted]
            left = len(stored) - int(episode.t_started)
            steps = max(1, min(int(n_step), left))
            episode.extra_model_outputs[N_STEP] = _constant(episode.extra_model_outputs[N_STEP], steps)
            if steps == left:  # the tail reaches the stored episode's last step: its end flags hold here too
                episode.is_terminated, episode.is_truncated = stored.is_terminated, stored.is_truncated
        return episodes


def _constant(buffer: InfiniteLookbackBuffer, value: int) -> InfiniteLookbackBuffer:
    """A lookback buffer shaped like `buffer`, filled with `value`."""
    data = np.full_like(np.asarray(buffer.data), value)
    return InfiniteLookbackBuffer(data, lookback=buffer.lookback)
