"""The route table and background tasks of every domain slice, in one readable list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

from server.domain.accounts.controllers import AccountController, AuthController
from server.domain.admin.controllers import admin_router
from server.domain.alerts import services as alerts
from server.domain.alerts.controllers import AlertController
from server.domain.booking import reminders
from server.domain.booking.controllers import booking_router
from server.domain.cancellation import refunds
from server.domain.cancellation.controllers import CancellationController
from server.domain.catalog.controllers import catalog_router
from server.domain.health.controllers import HealthController
from server.domain.inventory import services as inventory
from server.domain.inventory.controllers import (
    GroupHoldController,
    HoldController,
    SeatMapController,
)
from server.domain.inventory.strategies import make_strategy
from server.domain.live.admission import AdmissionController
from server.domain.live.controllers import seat_feed
from server.domain.live.feed import LiveFeed
from server.domain.notifications import worker as notifications
from server.domain.recommendations.controllers import RecommendationController
from server.domain.reconciliation.controllers import ReconciliationController
from server.domain.reports.controllers import reports_router
from server.domain.tickets.controllers import TicketController
from server.domain.waitlist import services as waitlist
from server.domain.waitlist.controllers import WaitlistController
from server.infra.periodic import periodic
from server.infra.state import Services

SWEEP_INTERVAL_SECONDS = 0.5
WAITLIST_INTERVAL_SECONDS = 1.0
REFUND_RETRY_INTERVAL_SECONDS = 5.0


def handlers() -> list[Any]:
    return [
        HealthController,
        AuthController,
        AccountController,
        admin_router,
        reports_router,
        catalog_router,
        RecommendationController,
        AlertController,
        SeatMapController,
        HoldController,
        GroupHoldController,
        seat_feed,
        WaitlistController,
        AdmissionController,
        booking_router,
        TicketController,
        CancellationController,
        ReconciliationController,
    ]


def plugins(redis: Redis) -> list[Any]:
    channels = ChannelsPlugin(
        backend=RedisChannelsPubSubBackend(redis=redis),
        arbitrary_channels_allowed=True,
    )
    return [channels]


@asynccontextmanager
async def background(app: Litestar, services: Services) -> AsyncIterator[None]:
    """Wire the per-process collaborators and run the background jobs while the app lives."""
    services.extras["feed"] = LiveFeed(app.plugins.get(ChannelsPlugin))
    services.extras["strategy"] = make_strategy(
        services.settings.lock_strategy, services.settings.redlock_urls
    )
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(
            periodic(
                "hold-sweeper", SWEEP_INTERVAL_SECONDS, lambda: inventory.sweep_expired(services)
            )
        )
        await stack.enter_async_context(
            periodic(
                "waitlist-offers",
                WAITLIST_INTERVAL_SECONDS,
                lambda: waitlist.offer_freed_seats(services),
            )
        )
        await stack.enter_async_context(
            periodic("notifications", notifications.INTERVAL_SECONDS, notifications.job(services))
        )
        await stack.enter_async_context(
            periodic(
                "refund-retries", REFUND_RETRY_INTERVAL_SECONDS, lambda: refunds.send_due(services)
            )
        )
        await stack.enter_async_context(
            periodic(
                "show-reminders", reminders.INTERVAL_SECONDS, lambda: reminders.send_due(services)
            )
        )
        await stack.enter_async_context(
            periodic("release-alerts", alerts.INTERVAL_SECONDS, lambda: alerts.send_due(services))
        )
        yield
