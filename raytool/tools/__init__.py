"""Tool and task model (pure data, no Ray), importers for benchmark formats, and dataset files."""

from raytool.tools.call import ToolCall, result_ref
from raytool.tools.dataset import ImportReport, ToolDataset
from raytool.tools.errors import FieldError, RecordError
from raytool.tools.spec import ToolSpec
from raytool.tools.task import Task

__all__ = ["FieldError", "ImportReport", "RecordError", "Task", "ToolCall", "ToolDataset", "ToolSpec", "result_ref"]
