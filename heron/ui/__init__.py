"""The web UI served by ``heron server``: Jinja2 templates, one CSS file and one small JavaScript file
(no build step, no CDN), and the view models the pages render (see docs/ui.md)."""

from __future__ import annotations

__all__: list[str] = []
