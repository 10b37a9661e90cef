"""price set | show, and price rule add | list | remove (dynamic pricing)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import typer

from admin.api import connect
from admin.commands.bulk import DryRun, delete_each, pairs
from admin.commands.schedule import local_date
from admin.commands.theaters import theater_id_for
from admin.output import (
    AdminTyper,
    Column,
    JsonFlag,
    examples,
    info,
    listing,
    print_json,
    record,
    stdout,
    success,
)
from server.contracts import admin as contracts

app = AdminTyper(
    help="Prices: set base prices of future shows, see a show's prices, dynamic-pricing rules.",
    no_args_is_help=True,
)
rule_app = AdminTyper(help="Dynamic-pricing rules: add, list, remove.", no_args_is_help=True)
app.add_typer(rule_app, name="rule")

RULES = "/api/v1/admin/price-rules"
RANGE = re.compile(r"(\d*)-(\d*)|(\d+)")

CHANGE_COLUMNS: list[Column[contracts.ShowPriceChange]] = [
    ("Show", lambda c: c.show_id),
    ("Starts (local)", lambda c: c.starts_local),
    ("Screen", lambda c: c.screen_name),
    ("Movie", lambda c: c.title),
    (
        "Changes (minor units)",
        lambda c: ", ".join(
            f"{t} {c.before[t]} → {c.after[t]}"
            for t in sorted(c.after)
            if c.after[t] != c.before[t]
        ),
    ),
]
RULE_COLUMNS: list[Column[contracts.PriceRuleOut]] = [
    ("ID", lambda r: r.rule_id),
    ("Theater", lambda r: r.theater_id),
    ("Screen", lambda r: r.screen_id or "all"),
    ("Name", lambda r: r.name),
    ("When", lambda r: describe(r.condition)),
    ("Adjust %", lambda r: r.adjust_percent),
    ("Seat types", lambda r: r.seat_types or "all"),
    ("Bounds (minor)", lambda r: ", ".join(
        f"{t} {b.floor_minor or 0}..{b.ceiling_minor or '∞'}" for t, b in r.bounds.items()
    )),
    ("Priority", lambda r: r.priority),
]  # fmt: skip

Prices = Annotated[
    list[str],
    typer.Option(
        "--price", help="TYPE=AMOUNT in decimal major units, e.g. premium=450.00; repeatable."
    ),
]


def describe(condition: contracts.RuleCondition) -> str:
    if condition.kind == "occupancy":
        upper = f" and under {condition.max_percent} %" if condition.max_percent is not None else ""
        return f"occupancy at least {condition.min_percent} %{upper}"
    if condition.kind == "weekday":
        return "on " + ", ".join(condition.days or [])
    if condition.kind == "time_of_day":
        return f"starting {condition.from_time}–{condition.to_time}"
    upper = f"–{condition.max_days}" if condition.max_days is not None else "+"
    return f"{condition.min_days or 0}{upper} days before"


@app.command(
    "set",
    epilog=examples(
        "bms admin price set --screen SCREEN_ID --from 2026-11-27 --to 2026-11-29 "
        "--price premium=450.00 --dry-run",
        "bms admin price set --theater 'Harbour Screens' --price regular=220 --price premium=380",
        "bms admin price set --show SHOW_ID --price recliner=799.50",
    ),
)
def set_prices(
    price: Prices,
    show: Annotated[list[uuid.UUID] | None, typer.Option(help="A show id; repeatable.")] = None,
    screen: Annotated[uuid.UUID | None, typer.Option(help="Every show on this screen.")] = None,
    theater: Annotated[
        str | None, typer.Option(help="Every show at this theater (id or name).")
    ] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First local date.")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last local date.")] = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Set base prices of future, non-cancelled shows, picked by show, screen or theater
    and local dates. Seat types a show does not have are left alone. Seats already held or
    sold keep the price they were taken at."""
    with connect() as client:
        body = contracts.PriceChange(
            show_ids=show or [],
            theater_id=theater_id_for(client, theater) if theater else None,
            screen_id=screen,
            date_from=local_date(date_from, "--from"),
            date_to=local_date(date_to, "--to"),
            prices=pairs(price, "--price", "premium=450.00"),
            dry_run=dry_run,
        )
        report = client.post("/api/v1/admin/prices", contracts.PriceChangeOut, body)
    if as_json:
        print_json(report)
    else:
        listing(report.changes, CHANGE_COLUMNS, as_json=False, empty="")
    verb = "would change" if dry_run else "changed"
    info(f"{report.shows_changed} of {report.shows_matched} matching shows {verb}")
    if report.applied:
        success("new prices are on sale now")


@app.command("show", epilog=examples("bms admin price show SHOW_ID"))
def show_prices(
    show: Annotated[uuid.UUID, typer.Argument(help="The show's id.")], as_json: JsonFlag = False
) -> None:
    """A show's base prices beside what its dynamic-pricing rules make of them right now."""
    with connect() as client:
        prices = client.get(f"/api/v1/admin/shows/{show}/prices", contracts.ShowPricesOut)
    if as_json:
        print_json(prices)
        return
    rows = sorted(prices.base)
    columns: list[Column[str]] = [
        ("Seat type", lambda t: t),
        (f"Base ({prices.currency} minor)", lambda t: prices.base[t]),
        ("Effective", lambda t: prices.effective[t]),
    ]
    listing(rows, columns, as_json=False, empty="this show has no prices")
    applied = ", ".join(prices.rules_applied) or "none"
    stdout().print(f"occupancy {prices.occupancy_percent} %; rules applied: {applied}")


def _condition(
    occupancy: str | None, weekday: str | None, time: str | None, days_before: str | None
) -> contracts.RuleCondition:
    given = [o for o in (occupancy, weekday, time, days_before) if o is not None]
    if len(given) != 1:
        raise typer.BadParameter(
            "give exactly one of --occupancy, --weekday, --time, --days-before",
            param_hint="condition",
        )
    if weekday is not None:
        return contracts.RuleCondition(kind="weekday", days=weekday.split(","))
    if time is not None:
        start, _, end = time.partition("-")
        return contracts.RuleCondition(kind="time_of_day", from_time=start, to_time=end)
    low, high = _range(
        occupancy or days_before or "", "--occupancy" if occupancy else "--days-before"
    )
    if occupancy is not None:
        return contracts.RuleCondition(kind="occupancy", min_percent=low or 0, max_percent=high)
    return contracts.RuleCondition(kind="days_before", min_days=low, max_days=high)


def _range(text: str, option: str) -> tuple[int | None, int | None]:
    """ "70" -> (70, None); "50-90" -> (50, 90); "-1" -> (None, 1); "7-" -> (7, None)."""
    match = RANGE.fullmatch(text.strip())
    if match is None:
        raise typer.BadParameter(f"{text!r} is not N, N-M, N- or -M", param_hint=option)
    if match.group(3):
        return int(match.group(3)), None
    low, high = match.group(1), match.group(2)
    return (int(low) if low else None), (int(high) if high else None)


@rule_app.command(
    "add",
    epilog=examples(
        "bms admin price rule add --theater 'Harbour Screens' --name 'busy' --occupancy 70 "
        "--adjust 15 --ceiling premium=600",
        "bms admin price rule add --theater T --name weekend --weekday sat,sun --adjust 10",
        "bms admin price rule add --theater T --name 'late night' --time 22:00-02:00 --adjust -20",
        "bms admin price rule add --theater T --name 'last minute' --days-before 0-1 --adjust -10",
    ),
)
def add_rule(
    theater: Annotated[str, typer.Option(help="The theater (id or name).")],
    name: Annotated[str, typer.Option(help="A name people recognise.")],
    adjust: Annotated[int, typer.Option(help="Percent to add (negative to take off).")],
    occupancy: Annotated[
        str | None, typer.Option(help="When seats sold or held reach N % (N-M: from N, under M).")
    ] = None,
    weekday: Annotated[
        str | None, typer.Option(help="On these local days, e.g. fri,sat,sun.")
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="Shows starting HH:MM-HH:MM local (may pass midnight).")
    ] = None,
    days_before: Annotated[
        str | None, typer.Option(help="Whole days until the show: N-M, N- or -M.")
    ] = None,
    screen: Annotated[uuid.UUID | None, typer.Option(help="Only this screen.")] = None,
    seat_type: Annotated[
        list[str] | None, typer.Option(help="Only this seat type; repeatable.")
    ] = None,
    floor: Annotated[
        list[str] | None, typer.Option(help="TYPE=AMOUNT: never below (major units).")
    ] = None,
    ceiling: Annotated[
        list[str] | None, typer.Option(help="TYPE=AMOUNT: never above (major units).")
    ] = None,
    priority: Annotated[int, typer.Option(help="Lower applies first; later rules win.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Add a dynamic-pricing rule: when its condition holds for a show, its seat prices move
    by --adjust percent, then stay within --floor and --ceiling. Rules apply in priority order,
    each on the result of the one before."""
    floors = pairs(floor, "--floor", "premium=300")
    ceilings = pairs(ceiling, "--ceiling", "premium=600")
    bounds = {
        seat_type_: contracts.PriceBoundIn(
            floor=floors.get(seat_type_), ceiling=ceilings.get(seat_type_)
        )
        for seat_type_ in {*floors, *ceilings}
    }
    with connect() as client:
        body = contracts.PriceRuleCreate(
            theater_id=theater_id_for(client, theater),
            name=name,
            condition=_condition(occupancy, weekday, time, days_before),
            adjust_percent=adjust,
            screen_id=screen,
            seat_types=seat_type,
            bounds=bounds,
            priority=priority,
        )
        added = client.post(RULES, contracts.PriceRuleOut, body)
    record([(title, get(added)) for title, get in RULE_COLUMNS], as_json=as_json, data=added)


@rule_app.command("list", epilog=examples("bms admin price rule list --theater 'Harbour Screens'"))
def list_rules(
    theater: Annotated[str | None, typer.Option(help="Only this theater (id or name).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the dynamic-pricing rules of your theaters, in the order they apply."""
    with connect() as client:
        theater_id = theater_id_for(client, theater) if theater else None
        rules = client.get(RULES, list[contracts.PriceRuleOut], theater_id=theater_id)
    listing(rules, RULE_COLUMNS, as_json=as_json, empty="no price rules")


@rule_app.command("remove", epilog=examples("bms admin price rule remove RULE_ID [RULE_ID...]"))
def remove_rules(
    rule_ids: Annotated[list[uuid.UUID], typer.Argument(help="Ids of the rules (see rule list).")],
) -> None:
    """Remove dynamic-pricing rules. Exits 3 when only some could be removed."""
    with connect() as client:
        delete_each(client, {str(r): f"{RULES}/{r}" for r in rule_ids}, "price rule")
