"""Reading workflow files written by flowdesk or by other tools (n8n), headless.

``load_workflow_file(path)`` is the one loader the CLI and the app use: a flowdesk file is
read as is; an n8n export is recognised and converted, and the problems of the conversion
come back as a list (warnings: the workflow is still returned).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.importers.loader import (
    ImportResult,
    is_n8n_export,
    load_workflow_data,
    load_workflow_file,
)

if TYPE_CHECKING:
    from flowdesk.importers.n8n import convert_n8n

__all__ = ["ImportResult", "convert_n8n", "is_n8n_export", "load_workflow_data",
           "load_workflow_file"]


def __getattr__(name: str) -> Any:
    # the n8n converter is imported when it is first asked for (a flowdesk file needs none)
    if name == "convert_n8n":
        from flowdesk.importers.n8n import convert_n8n

        return convert_n8n
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
