"""raytool: distil an LLM's tool-use skill into small proxy models, train them on Ray, and serve them.

`import raytool` stays light: Ray, vLLM, RLlib and Serve are imported only where they are used.
"""

__version__ = "0.1.0"
