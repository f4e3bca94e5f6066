"""Teacher and planner LLMs behind one `TeacherBackend` protocol: vLLM actors, transformers, OpenAI-compatible HTTP.

Heavy imports (vLLM, transformers, Ray) happen inside the backends, never at package import.
"""
