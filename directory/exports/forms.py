"""The export button: a POST with its CSRF token and nothing else, since exporting changes state."""

from __future__ import annotations

from directory.forms import Form


class ExportForm(Form):
    """Download the file and mark the approved requests in it as exported."""
