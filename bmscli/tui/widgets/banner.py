"""ConnectionBanner: a red strip across the top while the server does not answer."""

from __future__ import annotations

from textual.widgets import Static


class ConnectionBanner(Static):
    """Shows the app's ``offline`` reason (a sentence) and hides itself when it is None."""

    def on_mount(self) -> None:
        self.watch(self.app, "offline", self._show)

    def _show(self, reason: str | None) -> None:
        self.set_class(reason is not None, "-offline")
        if reason is not None:
            self.update(f"⚠  {reason}  Reconnecting automatically; nothing you chose is lost.")
