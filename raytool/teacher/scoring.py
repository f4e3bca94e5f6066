"""Tokenizer-level pieces shared by the backends: chat templating, and the token bookkeeping of the backends
that score candidates from token ids (vLLM, transformers).

Both backends tokenise the prompt and each candidate separately (`add_special_tokens=False` for the candidate)
and score the concatenation, so they compare exactly the same tokens; a candidate's log-likelihood is the sum
of the log-probabilities of its tokens given everything before them.
"""

from __future__ import annotations

from collections.abc import Sequence

from raytool.teacher.backend import CandidateScores


def apply_chat(tokenizer, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
    """Each conversation through the tokenizer's chat template, ending with the assistant generation prompt."""
    return [tokenizer.apply_chat_template(list(c), tokenize=False, add_generation_prompt=True) for c in conversations]


def pair_token_ids(
    tokenizer, prompts: Sequence[str], candidates: Sequence[Sequence[str]]
) -> list[tuple[list[int], int]]:
    """For every (prompt, candidate) pair in row-major order: (prompt ids + candidate ids, candidate length)."""
    out = []
    for prompt, options in zip(prompts, candidates, strict=True):
        prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
        for option in options:
            option_ids = tokenizer(option, add_special_tokens=False)["input_ids"]
            if not option_ids:
                raise ValueError(f"candidate {option!r} tokenises to nothing")
            out.append((list(prompt_ids) + list(option_ids), len(option_ids)))
    return out


def assemble_scores(
    flat: Sequence[float], lengths: Sequence[int], candidates: Sequence[Sequence[str]]
) -> CandidateScores:
    """Fold row-major per-pair sums back into per-prompt lists (summed, mean, tokens)."""
    summed, mean, tokens = [], [], []
    k = 0
    for options in candidates:
        n = len(options)
        summed.append([float(x) for x in flat[k : k + n]])
        tokens.append([int(x) for x in lengths[k : k + n]])
        mean.append([s / t for s, t in zip(summed[-1], tokens[-1], strict=True)])
        k += n
    return CandidateScores(summed, mean, tokens)
