"""The human-editable seat layout format: model, parser and text rendering (stdlib only).

Clients such as the admin CLI import this package directly, so it must never pull in the web
framework or the database.  See docs/layouts.md for the format.
"""

from pathlib import Path

from server.layouts.model import Layout, SeatSpec, SeatType
from server.layouts.parser import LayoutError, LayoutIssue, load_layout, parse_layout
from server.layouts.render import format_layout, render_text

# The layouts shipped with bms live at the repository root, next to `server/`.
SHIPPED_LAYOUTS_DIR = Path(__file__).resolve().parents[2] / "layouts"


def load_shipped_layouts(directory: Path = SHIPPED_LAYOUTS_DIR) -> dict[str, Layout]:
    """Every `*.layout` file in `directory`, parsed, keyed by file stem (e.g. "imax-grand")."""
    return {path.stem: load_layout(path) for path in sorted(directory.glob("*.layout"))}


__all__ = [
    "SHIPPED_LAYOUTS_DIR",
    "Layout",
    "LayoutError",
    "LayoutIssue",
    "SeatSpec",
    "SeatType",
    "format_layout",
    "load_layout",
    "load_shipped_layouts",
    "parse_layout",
    "render_text",
]
