"""The tool proposer: a fine-tuned all-MiniLM-L6-v2 bi-encoder (plus BM25) that proposes the top-p tools.

    config.py      ProposerConfig (every training and ranking setting, documented)
    documents.py   the text a tool is embedded by, and query segmentation
    losses.py      L = L_select (multi-positive InfoNCE) + alpha * L_rationale (teacher-forced NLL)
    model.py       ProposerModel: the shared encoder, mean pooling, the rationale decoder
    data.py        training examples from gold calls and the teacher's distillation records
    index.py       ToolIndex: tool vectors cached on disk per checkpoint, incremental
    ranking.py     per-segment dense + lexical fusion, rank interleaving, Platt calibration (numpy)
    proposer.py    ToolProposer: load a checkpoint, index a catalogue, propose top-p with probabilities
    checkpoint.py  safetensors weights + proposer.json + the tokenizer, written atomically
    train.py       the training loop (local, and per worker under Ray Train)
    ray_train.py   the same loop on N data-parallel workers with Ray Train's TorchTrainer
    splits.py      held-out-field splits (tools never seen in training)

`import raytool.proposer` is light: torch and transformers are imported by the modules that need them.
"""
