"""Authentication dependency and role checks used by every controller."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State

from server.contracts.enums import Role
from server.domain.accounts.principal import Principal
from server.domain.accounts.services import resolve
from server.domain.errors import Forbidden, Unauthorized
from server.infra.state import Services


async def provide_principal(
    request: Request[object, object, State], services: Services
) -> Principal:
    """The caller behind the bearer token. Taking ``services`` as a parameter (rather than
    reading app state) puts this dependency one level below ``services``: Litestar resolves a
    level holding one dependency inline, but several at once in a task group, which costs a
    hot handler like the hold two extra tasks per request."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "This needs a bearer token: log in (POST /api/v1/auth/login) or start a guest "
            "session (POST /api/v1/auth/guest), then send 'Authorization: Bearer <token>'."
        )
    principal = await resolve(services.driver_pool, services.clock, services.tokens, token.strip())
    request.state.principal = principal
    return principal


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles and not principal.is_platform_admin:
        # Platform admins always pass, so the sentence names them too.
        allowed = ", ".join(dict.fromkeys(r.value for r in (*roles, Role.PLATFORM_ADMIN)))
        raise Forbidden(f"This needs one of the roles {allowed}; you are {principal.role.value}.")


def require_theater(principal: Principal, theater_id: object) -> None:
    if not principal.can_act_for(theater_id):  # type: ignore[arg-type]
        raise Forbidden("That theater is not one of yours.")
