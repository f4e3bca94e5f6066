"""Skill composition: tool sequences with data flow mined from successful trajectories, offered as macro-actions."""
