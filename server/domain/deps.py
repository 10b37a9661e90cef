"""Typed names for the dependencies create_app() provides, so handlers read plainly:
``async def handler(self, db: Db, principal: Caller, services: AppServices)``."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.accounts.principal import Principal
from server.infra.state import Services

Db = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]
AppServices = NamedDependency[Services]
