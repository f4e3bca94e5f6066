"""Training F_P (`PolicyReconstruction`) on the teacher's pi_LLM labels from `raytool distill rank`.

Data. Each rank record holds the env's observation and action mask at a decider state and the teacher's
distribution over its options (`pi_llm`: the k candidates, then STOP when it was scored). The records are
checked and stacked into tensors: pi_llm goes into the env's action order (candidate slots 0..k-1, STOP at slot
p; empty slots, and STOP when it was not scored, get 0). p comes from the mask's length (p + 1) and the feature
dimension D from the observation's (2D + 4 + p (D + 5)); every record must agree with the first, and a record
that does not is a ValueError naming its index and field.

Split. A `holdout` fraction of the *tasks* (by task_id, shuffled with `seed`) is held out, so no task has
states on both sides: held-out figures measure generalisation to unseen requests, not to other steps of a
request already seen.

Training. Adam on L_FP = CE(pi_LLM, F_P) (`policy_reconstruction_loss`), minibatches shuffled by a seeded
generator after `torch.manual_seed(seed)`, so a run is deterministic on a given machine. After every epoch the
held-out loss is measured; the weights of the best epoch are kept (CE = KL + H(pi_LLM), and H does not depend on
the model, so this is also the epoch of least held-out KL). The held-out states thus both pick the epoch and
are reported on, which flatters the held-out figures slightly (a choice among `epochs` snapshots); with a few
hundred labelled states a third split would cost more signal than it removes bias.

Metrics (`evaluate_policy_reconstruction`), over the unmasked actions of each state:
    top1_agreement  argmax F_P == argmax pi_LLM (ties: the first slot)
    kl              mean KL(pi_LLM || F_P) in nats
    uniform_kl      mean KL(pi_LLM || uniform over the unmasked actions): the no-information baseline
    majority_top1   (training only) the agreement of a fixed preference order, slots ranked by how often each is
                    the teacher's argmax on the training states; a state takes its first unmasked slot
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from raytool.decider.fp_checkpoint import save_policy_reconstruction
from raytool.decider.fp_model import PolicyReconstruction
from raytool.decider.losses import masked_log_softmax, policy_reconstruction_loss
from raytool.envs.decider_env import OBS_PER_CANDIDATE, OBS_SCALARS, observation_dim

_SUM_TOLERANCE = 1e-3  # pi_llm is stored as floats in JSON; anything further from 1 is a broken record


@dataclass(frozen=True)
class PolicyTrainConfig:
    """Settings of `train_policy_reconstruction` (see the module docstring).

    width, heads, layers: the `PolicyReconstruction` Transformer (token width, attention heads, encoder layers).
    epochs: passes over the training states; the best epoch by held-out loss is kept.
    lr, weight_decay: Adam's.
    batch_size: states per optimiser step.
    holdout: fraction of the tasks (not states) held out, in (0, 1); at least one task is held out.
    seed: weight init, minibatch order and the task split.
    """

    width: int = 64
    heads: int = 4
    layers: int = 2
    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 64
    holdout: float = 0.2
    seed: int = 0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("width", "heads", "layers", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"PolicyTrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.width % self.heads:
            raise ValueError(f"PolicyTrainConfig.width ({self.width}) must be a multiple of heads ({self.heads})")
        if not 0 < self.holdout < 1:
            raise ValueError(f"PolicyTrainConfig.holdout must be in (0, 1), got {self.holdout}")
        if not self.lr > 0 or self.weight_decay < 0:
            raise ValueError("PolicyTrainConfig.lr must be > 0 and weight_decay >= 0")


@dataclass
class PolicyData:
    """Stacked records: obs (N, obs_dim), mask (N, p + 1) bool, pi (N, p + 1) in the env's action order."""

    obs: torch.Tensor
    mask: torch.Tensor
    pi: torch.Tensor
    task_ids: list[str]
    dim: int
    top_p: int

    def __len__(self) -> int:
        return len(self.task_ids)

    def subset(self, index: Sequence[int]) -> PolicyData:
        rows = torch.as_tensor(list(index), dtype=torch.long)
        ids = [self.task_ids[i] for i in index]
        return PolicyData(self.obs[rows], self.mask[rows], self.pi[rows], ids, self.dim, self.top_p)


def policy_data(records: Sequence[dict[str, Any]], where: str = "record") -> PolicyData:
    """Check the records and stack them (module docstring); errors read "`where` <index>: field ...".

    `where` names the source in errors ("record", or e.g. "out/rank_a record").
    """
    if not records:
        raise ValueError(f"no {where}s to train or evaluate on")
    dim = top_p = 0
    obs, masks, pis, task_ids = [], [], [], []
    for i, record in enumerate(records):
        at = f"{where} {i}"
        if not isinstance(record, dict):
            raise ValueError(f"{at}: expected a JSON object, got {type(record).__name__}")
        for name in ("task_id", "observation", "action_mask", "pi_llm"):
            if name not in record:
                raise ValueError(f"{at}: missing field {name!r} (an older `raytool distill rank` output? re-run it)")
        mask = _numbers(record["action_mask"], at, "action_mask")
        observation = _numbers(record["observation"], at, "observation")
        if i == 0:
            top_p = len(mask) - 1
            if top_p < 1:
                raise ValueError(f"{at}: field 'action_mask' has {len(mask)} values, expected top_p + 1 >= 2")
            dim = _infer_dim(len(observation), top_p, at)
        elif len(mask) != top_p + 1:
            raise ValueError(f"{at}: field 'action_mask' has {len(mask)} values, expected {top_p + 1} (as {where} 0)")
        expected = 2 * dim + OBS_SCALARS + top_p * (dim + OBS_PER_CANDIDATE)
        if len(observation) != expected:
            raise ValueError(
                f"{at}: field 'observation' has {len(observation)} values, expected {expected} "
                f"(2D + {OBS_SCALARS} + p (D + {OBS_PER_CANDIDATE}) with D={dim}, p={top_p}, as {where} 0)"
            )
        obs.append(observation)
        masks.append(_check_mask(mask, record, at))
        pis.append(_place_pi(record["pi_llm"], sum(mask[:top_p]), top_p, at))
        task_ids.append(str(record["task_id"]))
    mask_t = torch.tensor(masks, dtype=torch.float32) > 0
    return PolicyData(torch.tensor(obs, dtype=torch.float32), mask_t, torch.tensor(pis), task_ids, dim, top_p)


def _numbers(value: Any, at: str, name: str) -> list[float]:
    if not isinstance(value, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
        raise ValueError(f"{at}: field {name!r} must be a list of numbers")
    if not all(math.isfinite(x) for x in value):
        raise ValueError(f"{at}: field {name!r} holds a non-finite value")
    return [float(x) for x in value]


def _infer_dim(length: int, top_p: int, at: str) -> int:
    """D from len(observation) = 2D + 4 + p (D + 5)."""
    dim = observation_dim(length, top_p)
    if dim is None:
        raise ValueError(
            f"{at}: field 'observation' has {length} values, which is 2D + {OBS_SCALARS} + p (D + "
            f"{OBS_PER_CANDIDATE}) for no integer D >= 1 (p={top_p}, from 'action_mask')"
        )
    return dim


def _check_mask(mask: list[float], record: dict[str, Any], at: str) -> list[float]:
    """The env's mask: 0/1 values, the k candidates as a prefix of the p slots, and STOP (last) allowed."""
    p = len(mask) - 1
    k = int(sum(mask[:p]))
    if any(x not in (0.0, 1.0) for x in mask) or mask[p] != 1.0 or mask[:p] != [1.0] * k + [0.0] * (p - k):
        raise ValueError(f"{at}: field 'action_mask' {mask} is not a decider env mask (candidates first, STOP last)")
    candidates = record.get("candidates")
    if isinstance(candidates, list) and len(candidates) != k:
        raise ValueError(f"{at}: field 'action_mask' allows {k} candidates but 'candidates' lists {len(candidates)}")
    return mask


def _place_pi(value: Any, k: float, top_p: int, at: str) -> list[float]:
    """pi_llm (k candidates, then STOP if scored) in the env's action order, renormalised."""
    pi = _numbers(value, at, "pi_llm")
    k = int(k)
    if len(pi) not in (k, k + 1):
        raise ValueError(f"{at}: field 'pi_llm' has {len(pi)} values, expected {k + 1} (candidates, STOP) or {k}")
    total = sum(pi)
    if min(pi) < 0 or abs(total - 1.0) > _SUM_TOLERANCE:
        raise ValueError(f"{at}: field 'pi_llm' is not a distribution (sum {total:.6f}, min {min(pi):.6f})")
    placed = [x / total for x in pi[:k]] + [0.0] * (top_p + 1 - k)
    if len(pi) == k + 1:
        placed[top_p] = pi[k] / total
    return placed


def split_by_task(task_ids: Sequence[str], holdout: float, seed: int) -> tuple[list[int], list[int]]:
    """(train indices, held-out indices): a `holdout` fraction of the distinct tasks (at least one) held out."""
    tasks = sorted(set(task_ids))
    if len(tasks) < 2:
        raise ValueError(f"the records come from {len(tasks)} task(s); a split by task needs at least 2")
    random.Random(seed).shuffle(tasks)
    held = set(tasks[: min(len(tasks) - 1, max(1, round(holdout * len(tasks))))])
    train = [i for i, t in enumerate(task_ids) if t not in held]
    return train, [i for i, t in enumerate(task_ids) if t in held]


def train_policy_reconstruction(
    records: Sequence[dict[str, Any]],
    config: PolicyTrainConfig,
    out_dir: str | Path | None,
    log: Callable[[str], None] = print,
    env: dict[str, Any] | None = None,
    sources: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Train F_P on rank records (module docstring); save the best epoch to `out_dir` (unless None); the metrics,
    with the teacher audit's figures on the held-out states (`raytool.decider.audit`).

    `env`: the decider env settings the records were sampled under (rank's summary.json), kept in fp.json;
    `sources`: the `distill rank` dirs the records came from, kept in fp.json (the teacher start imitates F_P there).
    """
    data = policy_data(records)
    train_idx, held_idx = split_by_task(data.task_ids, config.holdout, config.seed)
    train, held = data.subset(train_idx), data.subset(held_idx)
    torch.manual_seed(config.seed)
    model = PolicyReconstruction(data.dim, data.top_p, config.width, config.heads, config.layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    order = torch.Generator().manual_seed(config.seed)
    log(
        f"[fp] {len(train)} train states ({len(set(train.task_ids))} tasks), {len(held)} held-out "
        f"({len(set(held.task_ids))} tasks); D={data.dim}, p={data.top_p}"
    )
    best_loss, best_epoch, best_state = math.inf, 0, None
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        tick = time.perf_counter()
        model.train()
        total = 0.0
        for rows in torch.randperm(len(train), generator=order).split(config.batch_size):
            optimizer.zero_grad()
            loss = policy_reconstruction_loss(model(train.obs[rows], train.mask[rows])[0], train.pi[rows],
                                              train.mask[rows])  # fmt: skip
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        rate = len(train) / max(time.perf_counter() - tick, 1e-9)
        figures = _metrics(model, held)
        log(
            f"[fp] epoch {epoch}/{config.epochs}: train loss {total / len(train):.4f}, held-out KL "
            f"{figures['kl']:.4f} nats, top-1 {figures['top1_agreement']:.3f}, {rate:,.0f} states/s"
        )
        if figures["loss"] < best_loss:
            best_loss, best_epoch, best_state = figures["loss"], epoch, copy.deepcopy(model.state_dict())
    seconds = time.perf_counter() - start
    model.load_state_dict(best_state)
    model.eval()
    held_figures, train_figures = _metrics(model, held), _metrics(model, train)
    metrics = {
        "top1_agreement": held_figures["top1_agreement"],
        "kl": held_figures["kl"],
        "train_top1_agreement": train_figures["top1_agreement"],
        "train_kl": train_figures["kl"],
        "uniform_kl": held_figures["uniform_kl"],
        "majority_top1": _majority_top1(train, held),
        "train_states": len(train),
        "heldout_states": len(held),
        "train_tasks": len(set(train.task_ids)),
        "heldout_tasks": len(set(held.task_ids)),
        "best_epoch": best_epoch,
        "train_seconds": seconds,
    } | _audit_figures(model, held, records, held_idx)
    log(f"[fp] best epoch {best_epoch}: held-out top-1 {metrics['top1_agreement']:.3f}, KL {metrics['kl']:.4f}")
    if out_dir is not None:
        meta = {"config": asdict(config), "metrics": metrics, "env": dict(env or {}),
                "sources": [str(Path(s).resolve()) for s in sources]}  # fmt: skip
        save_policy_reconstruction(model, meta, out_dir)
    return metrics


def evaluate_policy_reconstruction(model: PolicyReconstruction, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """top1_agreement, kl, uniform_kl (module docstring) and states, of `model` on rank records."""
    data = policy_data(records)
    if (data.dim, data.top_p) != (model.dim, model.top_p):
        raise ValueError(
            f"the records have D={data.dim}, p={data.top_p} but the model was built for D={model.dim}, "
            f"p={model.top_p}: they come from a different decider env"
        )
    figures = _metrics(model, data)
    return {k: figures[k] for k in ("top1_agreement", "kl", "uniform_kl")} | {"states": len(data)}


@torch.no_grad()
def _metrics(model: PolicyReconstruction, data: PolicyData, chunk: int = 1024) -> dict[str, float]:
    """Mean loss (CE), KL(pi || F_P), KL(pi || uniform) and top-1 agreement over `data`."""
    was_training = model.training
    model.eval()
    sums = {"loss": 0.0, "kl": 0.0, "uniform_kl": 0.0, "top1_agreement": 0.0}
    for start in range(0, len(data), chunk):
        obs, mask, pi = (t[start : start + chunk] for t in (data.obs, data.mask, data.pi))
        logits = model(obs, mask)[0]
        log_f = masked_log_softmax(logits, mask)
        support = (pi > 0) & mask
        log_pi = torch.log(pi.clamp_min(1e-30))
        sums["loss"] += (-(pi * log_f).masked_fill(~mask, 0.0).sum(-1)).sum().item()
        sums["kl"] += (pi * (log_pi - log_f)).masked_fill(~support, 0.0).sum(-1).clamp_min(0.0).sum().item()
        log_n = torch.log(mask.sum(-1, keepdim=True).float())
        sums["uniform_kl"] += (pi * (log_pi + log_n)).masked_fill(~support, 0.0).sum(-1).clamp_min(0.0).sum().item()
        teacher = pi.masked_fill(~mask, -1.0).argmax(-1)
        sums["top1_agreement"] += (logits.argmax(-1) == teacher).sum().item()
    model.train(was_training)
    return {k: v / len(data) for k, v in sums.items()}


@torch.no_grad()
def _audit_figures(model: PolicyReconstruction, held: PolicyData, records, held_idx) -> dict[str, Any]:
    """`audit.audit_figures`: the teacher on every record, the (eval-mode) model's argmax on the held-out ones."""
    from raytool.decider.audit import audit_figures

    return audit_figures(records, held_idx, model(held.obs, held.mask)[0].argmax(-1).tolist(), held.top_p)


def _majority_top1(train: PolicyData, held: PolicyData) -> float:
    """The agreement of a fixed slot preference learnt from the training states' teacher argmax (docstring)."""
    counts = torch.bincount(train.pi.masked_fill(~train.mask, -1.0).argmax(-1), minlength=train.top_p + 1)
    preference = sorted(range(len(counts)), key=lambda slot: (-int(counts[slot]), slot))
    rank = torch.empty(len(counts), dtype=torch.long)
    rank[preference] = torch.arange(len(counts))
    picks = rank.expand_as(held.mask).masked_fill(~held.mask, len(counts)).argmin(-1)
    teacher = held.pi.masked_fill(~held.mask, -1.0).argmax(-1)
    return (picks == teacher).float().mean().item()


def metrics_table(metrics: dict[str, Any]) -> str:
    """F_P's figures beside the baselines', as a markdown table."""
    from raytool.tables import format_table

    rows = [
        ["top-1 agreement, held-out", metrics["top1_agreement"], metrics["majority_top1"], "majority slot"],
        ["KL(pi_LLM || .) nats, held-out", metrics["kl"], metrics["uniform_kl"], "uniform"],
        ["top-1 agreement, train", metrics["train_top1_agreement"], "", ""],
        ["KL(pi_LLM || .) nats, train", metrics["train_kl"], "", ""],
    ]
    if metrics.get("audit_heldout_states"):  # the teacher audit (raytool.decider.audit)
        rows.append(
            [
                f"gold option top-1, held-out ({metrics['audit_heldout_states']} states)",
                metrics["audit_fp_gold_top1"],
                metrics["audit_fp_proposer_gold_top1"],
                "proposer's order",
            ]
        )
        rows.append(
            [
                f"teacher's gold option top-1 ({metrics['audit_states']} states)",
                metrics["audit_teacher_gold_top1"],
                metrics["audit_proposer_gold_top1"],
                "proposer's order",
            ]
        )
    return format_table(["metric", "F_P", "baseline", "baseline is"], rows)


def load_rank_records(dirs: Sequence[str | Path]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(records, env settings) of `distill rank` output dirs, each checked; the env settings must agree."""
    from raytool.distill.rank import SUMMARY_FILE, load_rank_output

    records: list[dict[str, Any]] = []
    env: dict[str, Any] | None = None
    for directory in dirs:
        loaded, summary = load_rank_output(Path(directory))
        if not loaded:
            raise ValueError(f"{directory}: no records in its shards")
        policy_data(loaded, where=f"{directory} record")
        settings = summary.get("env")
        if not isinstance(settings, dict):
            raise ValueError(f"{Path(directory) / SUMMARY_FILE}: missing field 'env' (re-run `raytool distill rank`)")
        if env is not None:
            changed = [k for k in sorted(set(env) | set(settings)) if env.get(k) != settings.get(k)]
            if changed:
                raise ValueError(
                    f"{Path(directory) / SUMMARY_FILE}: field 'env.{changed[0]}' is {settings.get(changed[0])!r}, "
                    f"but {dirs[0]} has {env.get(changed[0])!r}: the records come from different decider envs"
                )
        env = settings
        records += loaded
    return records, env or {}
