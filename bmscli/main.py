"""The ``bms`` root command. It composes the server commands and the admin CLI; the TUI and
the admin commands only ever talk to a server over HTTP."""

from __future__ import annotations

import typer

from admin.main import app as admin_app
from bmscli.checkin import checkin
from bmscli.tui_cli import kiosk, tui
from server.cli import db_app, demo, serve_app

app = typer.Typer(
    name="bms",
    help="bms: the cinema box office in your terminal.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(serve_app, name="serve")
app.command("demo")(demo)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.command("checkin")(checkin)
app.command("tui")(tui)
app.command("kiosk")(kiosk)


if __name__ == "__main__":
    app()
