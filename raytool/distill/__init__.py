"""Distillation data from the teacher: tool choices with rationales (`synth`), pi_LLM labels for decider states
(`rank`) and new verified instructions for the executable suites (`instructions`); sharded and resumable."""
