"""HelpScreen: every key, screen by screen, read from ``bmscli.tui.bindings``."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from bmscli.tui import bindings


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings.HELP

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("[b]Keys[/b]   (escape closes)", id="help-title")
            for title, section in self.sections:
                yield Static(self._table(title, section), classes="help-section")

    def _table(self, title: str, section: list[Binding]) -> Table:
        table = Table(title=title, title_justify="left", show_header=False, box=None, expand=True)
        table.add_column(style="bold", width=16)
        table.add_column()
        seen: set[str] = set()
        for binding in section:
            if binding.description in seen:
                continue  # a second key for the same thing, e.g. "?" besides F1
            seen.add(binding.description)
            keys = " / ".join(
                self.app.get_key_display(Binding(key, "")) for key in binding.key.split(",")
            )
            table.add_row(keys, binding.description)
        return table

    def action_close(self) -> None:
        self.dismiss()
