"""``bms admin``: the administrator's command line. It reaches the server only over HTTP."""

from __future__ import annotations

from admin.commands import (
    auth,
    layouts,
    movies,
    prices,
    refunds,
    schedule,
    seats,
    theaters,
    tokens,
    users,
)
from admin.commands.analytics import EXAMPLES as ANALYTICS_EXAMPLES
from admin.commands.analytics import analytics
from admin.commands.announce import EXAMPLES as ANNOUNCE_EXAMPLES
from admin.commands.announce import announce
from admin.commands.reconcile import reconcile
from admin.commands.settlement import EXAMPLES as SETTLEMENT_EXAMPLES
from admin.commands.settlement import settlement
from admin.output import AdminTyper, examples

app = AdminTyper(
    name="admin",
    help=(
        "Administer a bms server: accounts and tokens, theaters and screens, layouts, movies, "
        "schedules, prices, seat repairs, analytics, settlement, announcements, refunds and "
        "reconciliation. "
        "The server is BMS_SERVER_URL (default http://127.0.0.1:8000); BMS_TOKEN, when set, "
        "is used instead of the stored login. Exit codes: 0 ok, 1 error, 2 usage error, "
        "3 partial failure."
    ),
    no_args_is_help=True,
)
app.command("login", epilog=examples("bms admin login --email admin@example.com"))(auth.login)
app.command("logout", epilog=examples("bms admin logout"))(auth.logout)
app.command(
    "whoami", epilog=examples("bms admin whoami", "BMS_TOKEN=bms_… bms admin whoami --json")
)(auth.whoami)
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="token")
app.add_typer(layouts.app, name="layout")
app.add_typer(theaters.theater_app, name="theater")
app.add_typer(theaters.screen_app, name="screen")
app.add_typer(movies.app, name="movie")
app.add_typer(schedule.app, name="schedule")
app.add_typer(prices.app, name="price")
app.add_typer(seats.app, name="seats")
app.add_typer(refunds.app, name="refunds")
app.command("analytics", epilog=ANALYTICS_EXAMPLES)(analytics)
app.command("settlement", epilog=SETTLEMENT_EXAMPLES)(settlement)
app.command("announce", epilog=ANNOUNCE_EXAMPLES)(announce)
app.command("reconcile", epilog=examples("bms admin reconcile settlement.csv --json"))(reconcile)
