"""Reading workflow files written by flowdesk or by other tools (n8n), headless.

``load_workflow_file(path)`` is the one loader the CLI and the app use: a flowdesk file is
read as is; an n8n export is recognised and converted, and the problems of the conversion
come back as a list (warnings: the workflow is still returned).
"""

from __future__ import annotations

from flowdesk.importers.loader import ImportResult, load_workflow_data, load_workflow_file
from flowdesk.importers.n8n import convert_n8n, is_n8n_export

__all__ = ["ImportResult", "convert_n8n", "is_n8n_export", "load_workflow_data",
           "load_workflow_file"]
