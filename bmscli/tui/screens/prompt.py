"""Prompt: a small modal asking for digits (how many seats, the staff PIN)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class Prompt(ModalScreen[str | None]):
    """Dismisses with the digits typed, or None when cancelled with escape."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(
        self, question: str, *, value: str = "", secret: bool = False, max_length: int = 6
    ) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.secret = secret
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Static(self.question, id="prompt-question")
            yield Input(
                self.value,
                password=self.secret,
                restrict=r"[0-9]*",
                max_length=self.max_length,
                id="prompt-input",
            )
            with Horizontal(classes="actions"):
                yield Button("OK", variant="primary", id="prompt-ok")
                yield Button("Cancel", id="prompt-cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#prompt-ok")
    def answer(self) -> None:
        digits = self.query_one(Input).value
        self.dismiss(digits or None)

    @on(Button.Pressed, "#prompt-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
