"""Metrics, baselines, reports and plots."""
