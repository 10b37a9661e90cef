"""Base prices of future shows, and the dynamic-pricing rules applied on top of them.

A price change rewrites ``shows.prices`` of future, non-cancelled shows only. Seats already
held or sold keep the price they were taken at: ``hold_seats`` and ``booking_seats`` carry
their own price, and this module never touches them.
"""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from server.contracts import admin as contracts
from server.db.models import PriceRule, Show
from server.domain.accounts.guards import require_theater
from server.domain.accounts.principal import Principal
from server.domain.admin import queries
from server.domain.admin.catalog import screen_for
from server.domain.admin.local_time import local_text
from server.domain.admin.money import MAX_MINOR, price_table, to_minor
from server.domain.admin.schedule import scope_of
from server.domain.catalog.services import forget_lists
from server.domain.errors import Forbidden, Invalid, NotFound
from server.domain.pricing_rules import rules
from server.domain.pricing_rules.services import show_prices
from server.infra.state import Services
from server.infra.ttl_cache import TtlCache
from server.layouts import SeatType

SEAT_TYPES = tuple(t.value for t in SeatType)
MAX_PRIORITY = 1000


async def check_show_ids(
    session: AsyncSession, principal: Principal, show_ids: list[uuid.UUID]
) -> None:
    """Every show exists and belongs to one of the caller's theaters."""
    if not show_ids:
        return
    owners = await queries.theaters_of_shows(session, show_ids)
    unknown = [str(s) for s in show_ids if s not in owners]
    if unknown:
        raise NotFound(
            f"There is no show {', '.join(unknown)}; `bms admin schedule list` shows them."
        )
    if not all(principal.can_act_for(theater_id) for theater_id in owners.values()):
        raise Forbidden("Some of those shows are not at one of your theaters.")


def _new_prices(body: contracts.PriceChange, currency: str) -> dict[str, int]:
    prices, problems = price_table(body.prices, body.prices_minor, currency)
    if problems:
        raise Invalid("; ".join(f"{column}: {reason}" for column, reason in problems) + ".")
    return prices


async def _scope(
    session: AsyncSession, services: Services, principal: Principal, body: contracts.PriceChange
) -> queries.ShowScope:
    if not (body.show_ids or body.screen_id or body.theater_id):
        raise Invalid(
            "Say which shows to reprice: give show ids, a screen or a theater (and dates if "
            "you like); this refuses to reprice every show at once."
        )
    if body.date_from and body.date_to and body.date_from > body.date_to:
        raise Invalid(f"date_from {body.date_from} is after date_to {body.date_to}.")
    if body.screen_id is not None:
        await screen_for(session, principal, body.screen_id)
    await check_show_ids(session, principal, body.show_ids)
    return queries.ShowScope(
        theater_ids=scope_of(principal, body.theater_id),
        screen_id=body.screen_id,
        show_ids=body.show_ids,
        date_from=body.date_from,
        date_to=body.date_to,
        starting_after=services.clock.now(),
    )


async def change_prices(
    session: AsyncSession, services: Services, principal: Principal, body: contracts.PriceChange
) -> contracts.PriceChangeOut:
    if not body.prices and not body.prices_minor:
        raise Invalid("Give at least one new price, e.g. prices {'premium': '450.00'}.")
    lines = await queries.locked_shows(session, await _scope(session, services, principal, body))
    changes: list[contracts.ShowPriceChange] = []
    covered: set[str] = set()
    for line in lines:
        before = dict(line.show.prices)
        wanted = _new_prices(body, line.currency)
        covered |= wanted.keys() & before.keys()
        after = {**before, **{t: p for t, p in wanted.items() if t in before}}
        if after != before:
            changes.append(_change(line, before, after))
    uncovered = sorted((set(body.prices) | set(body.prices_minor)) - covered)
    if lines and uncovered:
        raise Invalid(
            f"None of the {len(lines)} show(s) has {', '.join(uncovered)} seats; check the "
            "seat types (a show is priced for the seat types of its screen)."
        )
    if not body.dry_run and changes:
        _apply(lines, {change.show_id: change.after for change in changes})
        await session.commit()
        _forget_show_terms(services)
        await forget_lists(services.redis)
    return contracts.PriceChangeOut(
        dry_run=body.dry_run,
        applied=bool(changes) and not body.dry_run,
        shows_matched=len(lines),
        shows_changed=len(changes),
        changes=changes,
    )


def _change(
    line: queries.ShowLine, before: dict[str, int], after: dict[str, int]
) -> contracts.ShowPriceChange:
    return contracts.ShowPriceChange(
        show_id=line.show.id,
        title=line.title,
        screen_name=line.screen_name,
        starts_local=local_text(line.show.starts_at, line.timezone),
        before=before,
        after=after,
    )


def _apply(lines: list[queries.ShowLine], new_prices: dict[uuid.UUID, dict[str, int]]) -> None:
    for line in lines:
        show: Show = line.show
        if show.id in new_prices:
            show.prices = new_prices[show.id]
            show.version += 1


def _forget_show_terms(services: Services) -> None:
    """Seat maps served by this process show the new prices at once (other processes within
    the two seconds their cached show terms live)."""
    cache: TtlCache[uuid.UUID, object] | None = services.extras.get("terms")
    if cache is not None:
        cache.clear()


# -- dynamic pricing rules ------------------------------------------------------------------


def _bounds(given: dict[str, contracts.PriceBoundIn], currency: str) -> dict[str, dict[str, int]]:
    bounds: dict[str, dict[str, int]] = {}
    for seat_type, bound in given.items():
        _check_seat_types([seat_type])
        try:
            limits = {
                name: to_minor(amount, currency)
                for name, amount in (("floor", bound.floor), ("ceiling", bound.ceiling))
                if amount is not None
            }
        except ValueError as exc:
            raise Invalid(f"bounds.{seat_type}: {exc}.") from None
        if limits.get("floor", 0) > limits.get("ceiling", MAX_MINOR):
            raise Invalid(f"bounds.{seat_type}: the floor is above the ceiling.")
        if limits:
            bounds[seat_type] = limits
    return bounds


def _check_seat_types(seat_types: list[str]) -> None:
    unknown = [t for t in seat_types if t not in SEAT_TYPES]
    if unknown:
        raise Invalid(f"Unknown seat type {', '.join(unknown)}; use {', '.join(SEAT_TYPES)}.")


def rule_out(rule: PriceRule) -> contracts.PriceRuleOut:
    return contracts.PriceRuleOut(
        rule_id=rule.id,
        theater_id=rule.theater_id,
        screen_id=rule.screen_id,
        name=rule.name,
        condition=msgspec.convert(rule.condition, contracts.RuleCondition),
        adjust_percent=rule.adjust_percent,
        seat_types=rule.seat_types,
        bounds={
            seat_type: contracts.PriceBoundOut(
                floor_minor=limits.get("floor"), ceiling_minor=limits.get("ceiling")
            )
            for seat_type, limits in rule.bounds.items()
        },
        priority=rule.priority,
        active=rule.active,
        created_at=rule.created_at,
    )


async def add_rule(
    session: AsyncSession, principal: Principal, body: contracts.PriceRuleCreate
) -> contracts.PriceRuleOut:
    require_theater(principal, body.theater_id)
    found = await queries.theaters_with_city(session, [body.theater_id])
    if not found:
        raise NotFound(f"There is no theater {body.theater_id}.")
    [(_, city)] = found
    if body.screen_id is not None:
        screen = await screen_for(session, principal, body.screen_id)
        if screen.theater_id != body.theater_id:
            raise Invalid("That screen is in another theater; give a screen of this theater.")
    name = body.name.strip()
    if not 1 <= len(name) <= 120:
        raise Invalid("Give the rule a name of 1 to 120 characters.")
    try:
        condition = rules.parse_condition(msgspec.to_builtins(body.condition))
    except ValueError as exc:
        raise Invalid(f"condition: {exc}.") from None
    if not rules.MIN_ADJUST_PERCENT <= body.adjust_percent <= rules.MAX_ADJUST_PERCENT:
        raise Invalid(
            f"adjust_percent must be from {rules.MIN_ADJUST_PERCENT} to "
            f"{rules.MAX_ADJUST_PERCENT}; {body.adjust_percent} is not."
        )
    if not 0 <= body.priority <= MAX_PRIORITY:
        raise Invalid(f"priority must be from 0 to {MAX_PRIORITY}.")
    if body.seat_types is not None:
        _check_seat_types(body.seat_types)
    rule = PriceRule(
        theater_id=body.theater_id,
        screen_id=body.screen_id,
        name=name,
        condition=condition,
        adjust_percent=body.adjust_percent,
        seat_types=body.seat_types,
        bounds=_bounds(body.bounds, city.currency),
        priority=body.priority,
    )
    session.add(rule)
    await session.commit()
    await session.refresh(rule)
    return rule_out(rule)


async def list_rules(
    session: AsyncSession, principal: Principal, theater_id: uuid.UUID | None
) -> list[contracts.PriceRuleOut]:
    found = await queries.price_rules(session, scope_of(principal, theater_id))
    return [rule_out(rule) for rule in found]


async def remove_rule(session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> None:
    rule = await session.get(PriceRule, rule_id)
    if rule is None:
        raise NotFound(f"There is no price rule {rule_id}; `bms admin price rule list` shows them.")
    require_theater(principal, rule.theater_id)
    await session.delete(rule)
    await session.commit()


async def prices_of_show(
    session: AsyncSession, services: Services, principal: Principal, show_id: uuid.UUID
) -> contracts.ShowPricesOut:
    await check_show_ids(session, principal, [show_id])
    prices = await show_prices(session, show_id, services.clock.now())
    if prices is None:
        raise NotFound(f"There is no show {show_id}.")
    return contracts.ShowPricesOut(
        show_id=prices.show_id,
        currency=prices.currency,
        occupancy_percent=prices.occupancy_percent,
        base=prices.base,
        effective=prices.effective,
        rules_applied=prices.rules_applied,
    )
