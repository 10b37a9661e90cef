"""Login, guest sessions, the caller's profile, staff users and API tokens."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, Parameter

from server.contracts import api
from server.contracts.enums import Role
from server.domain.accounts import services as accounts
from server.domain.accounts.guards import provide_principal, require_role, require_theater
from server.domain.deps import AppServices, Caller, Db


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]

    @post("/login", summary="Log in with e-mail and password; returns a bearer token")
    async def login(self, data: api.LoginRequest, db: Db, services: AppServices) -> api.TokenOut:
        out = await accounts.login(db, services.clock, data)
        await db.commit()
        return out

    @post("/guest", summary="Start a guest buyer session (no account needed)")
    async def guest(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        services: AppServices,
        data: api.GuestRequest | None = None,
    ) -> api.TokenOut:
        # No token is needed; a kiosk device's token marks the session as a kiosk sale.
        started_by = (
            await provide_principal(request, services)
            if "authorization" in request.headers
            else None
        )
        out = await accounts.guest(db, services.clock, data or api.GuestRequest(), started_by)
        await db.commit()
        return out

    @post("/logout", status_code=204, summary="End the calling login session")
    async def logout(self, db: Db, principal: Caller, services: AppServices) -> None:
        await accounts.logout(db, services.clock, principal)
        services.tokens.clear()


class AccountController(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", summary="The calling user")
    async def me(self, db: Db, principal: Caller) -> api.UserOut:
        return await accounts.me(db, principal)

    @get("/me/preferences", summary="The genres and languages the caller likes")
    async def preferences(self, db: Db, principal: Caller) -> api.Preferences:
        return await accounts.preferences(db, principal)

    @put("/me/preferences", summary="Say which genres and languages you like (replaces them)")
    async def set_preferences(
        self, data: api.Preferences, db: Db, principal: Caller
    ) -> api.Preferences:
        out = await accounts.set_preferences(db, principal, data)
        await db.commit()
        return out

    @post("/admin/users", summary="Create a clerk, kiosk device, theater admin or customer")
    async def create_user(self, data: api.UserCreate, db: Db, principal: Caller) -> api.UserOut:
        require_role(principal, Role.THEATER_ADMIN)
        return await accounts.create_user(db, principal, data)

    @get("/admin/users", summary="List the users you manage (platform admins: everyone)")
    async def list_users(
        self,
        db: Db,
        principal: Caller,
        role: str | None = None,
        theater_id: uuid.UUID | None = None,
        email: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
    ) -> list[api.UserOut]:
        require_role(principal, Role.THEATER_ADMIN)
        if theater_id is not None:
            require_theater(principal, theater_id)
        return await accounts.list_users(
            db, principal, role=role, theater_id=theater_id, email=email, limit=limit
        )

    @post(
        "/admin/users/{user_id:uuid}/password",
        status_code=200,
        summary="Reset a password (generated and returned once if not given); ends its sessions",
    )
    async def reset_password(
        self,
        user_id: FromPath[uuid.UUID],
        db: Db,
        principal: Caller,
        services: AppServices,
        data: api.PasswordReset | None = None,
    ) -> api.PasswordResetOut:
        require_role(principal, Role.THEATER_ADMIN)
        out = await accounts.reset_password(
            db, services.clock, principal, user_id, data or api.PasswordReset()
        )
        services.tokens.clear()
        return out

    @post("/tokens", summary="Create a long-lived API or kiosk token (shown once)")
    async def create_token(
        self, data: api.ApiTokenCreate, db: Db, principal: Caller, services: AppServices
    ) -> api.ApiTokenOut:
        return await accounts.create_api_token(db, services.clock, principal, data)

    @get("/tokens", summary="List API and kiosk tokens you may manage")
    async def list_tokens(self, db: Db, principal: Caller) -> list[api.ApiTokenOut]:
        return await accounts.list_tokens(db, principal)

    @delete("/tokens/{token_id:uuid}", summary="Revoke a token")
    async def revoke_token(
        self, token_id: FromPath[uuid.UUID], db: Db, principal: Caller, services: AppServices
    ) -> None:
        await accounts.revoke_token(db, services.clock, principal, token_id)
        services.tokens.clear()
