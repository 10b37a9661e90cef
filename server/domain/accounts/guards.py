"""Authentication dependency and role checks used by every controller."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State

from server.contracts.enums import Role
from server.domain.accounts.principal import Principal
from server.domain.accounts.security import token_digest
from server.domain.accounts.services import resolve
from server.domain.errors import Forbidden, Unauthorized
from server.infra.state import Services


async def provide_principal(request: Request[object, object, State]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "This needs a bearer token: log in (POST /api/v1/auth/login) or start a guest "
            "session (POST /api/v1/auth/guest), then send 'Authorization: Bearer <token>'."
        )
    services: Services = request.app.state.services
    principal = services.tokens.get(token_digest(token.strip()))
    if principal is None:  # only a cache miss costs a database session
        async with services.sessions() as session:
            principal = await resolve(session, services.clock, services.tokens, token.strip())
    request.state.principal = principal
    return principal


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles and not principal.is_platform_admin:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"This needs one of the roles {allowed}; you are {principal.role.value}.")


def require_theater(principal: Principal, theater_id: object) -> None:
    if not principal.can_act_for(theater_id):  # type: ignore[arg-type]
        raise Forbidden("That theater is not one of yours.")
