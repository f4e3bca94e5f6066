"""The planner: the teacher decomposes a task into sub-tasks with domains; a rule and a router when it cannot."""
