"""`TransformersTeacher`: the `TeacherBackend` on plain transformers, in-process (fallback and cross-check).

Scores are computed in float32 from one forward pass per batch of (prompt + candidate) sequences; they agree
with the vLLM backend's up to bfloat16 rounding (the tests check that the rankings agree).
"""

from __future__ import annotations

from collections.abc import Sequence

from raytool.teacher.backend import CandidateScores, Sampling, TeacherConfig
from raytool.teacher.scoring import apply_chat, assemble_scores, pair_token_ids


class TransformersTeacher:
    """See the module docstring. `config.model` "" loads the embedded SmolLM2 checkpoint."""

    def __init__(self, config: TeacherConfig | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from raytool.teacher.embedded import resolve_model

        self.config = config or TeacherConfig(backend="transformers")
        path = resolve_model(self.config.model)
        self.model_name = path
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32).eval()

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return apply_chat(self.tokenizer, conversations)

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        torch = self._torch
        outputs = []
        for prompt in prompts:  # one at a time: no padding artefacts in greedy decoding
            ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
            kwargs = {"max_new_tokens": sampling.max_tokens, "pad_token_id": self.tokenizer.pad_token_id}
            if sampling.temperature > 0:
                torch.manual_seed(sampling.seed)
                kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
            else:
                kwargs.update(do_sample=False)
            with torch.inference_mode():
                new = self.model.generate(**ids, **kwargs)[0, ids["input_ids"].shape[1] :]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            outputs.append(_cut(text, sampling.stop))
        return outputs

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        torch = self._torch
        pairs = pair_token_ids(self.tokenizer, prompts, candidates)
        flat: list[float] = []
        for start in range(0, len(pairs), self.config.batch_size):
            batch = pairs[start : start + self.config.batch_size]
            width = max(len(ids) for ids, _ in batch)
            input_ids = torch.full((len(batch), width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (ids, _) in enumerate(batch):
                input_ids[row, : len(ids)] = torch.tensor(ids)
                mask[row, : len(ids)] = 1
            with torch.inference_mode():
                logprobs = torch.log_softmax(self.model(input_ids=input_ids, attention_mask=mask).logits.float(), -1)
            for row, (ids, n) in enumerate(batch):
                positions = torch.arange(len(ids) - n - 1, len(ids) - 1)  # logits at t predict token t + 1
                targets = torch.tensor(ids[len(ids) - n :])
                flat.append(float(logprobs[row, positions, targets].sum()))
        return assemble_scores(flat, [n for _, n in pairs], candidates)

    def close(self) -> None:
        self.model = None


def _cut(text: str, stop: Sequence[str]) -> str:
    cuts = [text.index(s) for s in stop if s in text]
    return text[: min(cuts)] if cuts else text
