"""Accounts over HTTP: login, guest sessions, /me, users, password resets and API tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from server.clock import FrozenClock
from server.contracts.enums import Role
from server.db.models import User
from tests.factories import auth, make_user, make_world


@dataclass
class Staff:
    """Two theaters, each with a theater admin and a clerk, plus a platform admin and a customer."""

    north: uuid.UUID
    south: uuid.UUID
    platform: str
    north_admin: str
    north_admin_id: uuid.UUID
    north_clerk: User
    south_clerk: User
    customer: User


@pytest.fixture
async def staff(session: AsyncSession, clock: FrozenClock) -> Staff:
    starts_at = clock.now() + timedelta(days=1)
    north = (await make_world(session, starts_at=starts_at, name_suffix=" North")).theater_id
    south = (await make_world(session, starts_at=starts_at, name_suffix=" South")).theater_id
    _, platform = await make_user(session, role=Role.PLATFORM_ADMIN)
    north_admin, north_admin_token = await make_user(
        session, role=Role.THEATER_ADMIN, theater_ids=[north]
    )
    north_clerk, _ = await make_user(
        session, role=Role.CLERK, email="north.clerk@example.test", theater_ids=[north]
    )
    south_clerk, _ = await make_user(session, role=Role.CLERK, theater_ids=[south])
    customer, _ = await make_user(session, role=Role.CUSTOMER)
    return Staff(
        north=north,
        south=south,
        platform=platform,
        north_admin=north_admin_token,
        north_admin_id=north_admin.id,
        north_clerk=north_clerk,
        south_clerk=south_clerk,
        customer=customer,
    )


async def login(client: AsyncTestClient, email: str, password: str) -> str:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


# -- login, guests, /me ---------------------------------------------------------------------


async def test_login_returns_a_session_token_for_me(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role=Role.CLERK, email="Asha@Example.test")
    token = await login(client, "asha@example.test", "secret-pass")
    me = (await client.get("/api/v1/me", headers=auth(token))).json()
    assert me["user_id"] == str(user.id)
    assert me["role"] == "clerk"
    assert me["email"] == "Asha@Example.test"


@pytest.mark.parametrize(
    ("email", "password"),
    [("asha@example.test", "wrong-pass"), ("nobody@example.test", "secret-pass")],
)
async def test_login_failure_is_one_unhelpful_to_attackers_sentence(
    client: AsyncTestClient, session: AsyncSession, email: str, password: str
) -> None:
    await make_user(session, role=Role.CLERK, email="asha@example.test")
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "E-mail or password is wrong; check both and try again."


async def test_guest_session_is_a_customer(client: AsyncTestClient) -> None:
    response = await client.post("/api/v1/auth/guest", json={"name": "Walk-in"})
    assert response.status_code == 201
    guest = response.json()
    assert guest["role"] == "customer"
    me = (await client.get("/api/v1/me", headers=auth(guest["token"]))).json()
    assert me["name"] == "Walk-in"
    # Contact details are checked as a booking's contact is, and a name is cut to fit.
    for bad in ({"email": "not-an-email"}, {"phone": "+91 98 abc"}):
        refused = await client.post("/api/v1/auth/guest", json=bad)
        assert refused.status_code == 422 and next(iter(bad)) in refused.json()["detail"]
    reached = {"name": "x" * 5000, "email": " a@b.example ", "phone": "+91 98200 12345"}
    long = (await client.post("/api/v1/auth/guest", json=reached)).json()
    me = (await client.get("/api/v1/me", headers=auth(long["token"]))).json()
    assert (len(me["name"]), me["phone"]) == (200, "+91 98200 12345")


async def test_me_needs_a_bearer_token(client: AsyncTestClient) -> None:
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]
    bogus = await client.get("/api/v1/me", headers=auth("bms_not-a-real-token"))
    assert bogus.status_code == 401


async def test_logout_ends_the_session_but_not_api_tokens(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    _, api_token = await make_user(session, role=Role.CLERK, email="asha@example.test")
    token = await login(client, "asha@example.test", "secret-pass")
    assert (await client.post("/api/v1/auth/logout", headers=auth(token))).status_code == 204
    assert (await client.get("/api/v1/me", headers=auth(token))).status_code == 401
    refused = await client.post("/api/v1/auth/logout", headers=auth(api_token))
    assert refused.status_code == 422
    assert (await client.get("/api/v1/me", headers=auth(api_token))).status_code == 200


# -- creating users ---------------------------------------------------------------------------


async def create_user(client: AsyncTestClient, token: str, **body: object) -> Response:
    return await client.post("/api/v1/admin/users", headers=auth(token), json=body)


async def test_theater_admin_creates_clerks_for_own_theater_only(
    client: AsyncTestClient, staff: Staff
) -> None:
    north, south = [str(staff.north)], [str(staff.south)]
    own = await create_user(
        client, staff.north_admin, name="New Clerk", role="clerk", theater_ids=north
    )
    assert own.status_code == 201, own.text
    assert own.json()["theater_ids"] == north
    other = await create_user(
        client, staff.north_admin, name="Spy", role="clerk", theater_ids=south
    )
    assert other.status_code == 403
    assert "your own theaters" in other.json()["detail"]
    platform = await create_user(
        client, staff.north_admin, name="Boss", role="platform_admin", theater_ids=north
    )
    assert platform.status_code == 403


async def test_creating_a_user_checks_each_field_like_the_rest_of_the_product(
    client: AsyncTestClient, staff: Staff
) -> None:
    north = [str(staff.north)]
    clerk = {"name": "QA c", "role": "clerk", "email": "qa@example.test", "theater_ids": north}
    cases = {
        "The password is too short: use at least 8 characters": {"password": "short"},
        "email 'not-an-email' is not an e-mail address": {"email": "not-an-email"},
        "name must be 1 to 200 characters; it is 0.": {"name": "  "},
        "phone 'call me' is not a phone number": {"phone": "call me"},
    }
    for start, change in cases.items():
        refused = await create_user(client, staff.platform, **{**clerk, **change})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"].startswith(start)
    nowhere = uuid.UUID(int=0)
    unknown = await create_user(client, staff.platform, **{**clerk, "theater_ids": [str(nowhere)]})
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == (
        f"There is no theater {nowhere}; `bms admin theater list` shows them."
    )
    fine = await create_user(client, staff.platform, **{**clerk, "email": " qa@example.test "})
    assert fine.status_code == 201, fine.text
    assert fine.json()["email"] == "qa@example.test"


async def test_creating_a_user_with_a_taken_email_is_a_conflict(
    client: AsyncTestClient, staff: Staff
) -> None:
    twin = await create_user(
        client, staff.platform, name="Twin", role="customer", email="NORTH.clerk@example.test"
    )
    assert twin.status_code == 409


# -- listing users ----------------------------------------------------------------------------


async def list_users(client: AsyncTestClient, token: str, **params: str) -> list[dict]:
    response = await client.get("/api/v1/admin/users", headers=auth(token), params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_platform_admin_lists_everyone_but_guests(
    client: AsyncTestClient, staff: Staff
) -> None:
    await client.post("/api/v1/auth/guest", json={"name": "Walk-in"})
    users = await list_users(client, staff.platform)
    assert len(users) == 5
    assert "Walk-in" not in {u["name"] for u in users}
    clerks = await list_users(client, staff.platform, role="clerk", theater_id=str(staff.south))
    assert [u["user_id"] for u in clerks] == [str(staff.south_clerk.id)]
    assert clerks[0]["theater_ids"] == [str(staff.south)]


async def test_theater_admin_sees_only_own_theaters_staff(
    client: AsyncTestClient, staff: Staff
) -> None:
    users = await list_users(client, staff.north_admin)
    assert {u["user_id"] for u in users} == {str(staff.north_admin_id), str(staff.north_clerk.id)}
    assert await list_users(client, staff.north_admin, email="nobody@example.test") == []
    by_email = await list_users(client, staff.north_admin, email="North.Clerk@example.test")
    assert [u["user_id"] for u in by_email] == [str(staff.north_clerk.id)]


async def test_theater_admin_never_sees_another_theaters_staff_or_customers(
    client: AsyncTestClient, staff: Staff
) -> None:
    other = await client.get(
        "/api/v1/admin/users",
        headers=auth(staff.north_admin),
        params={"theater_id": str(staff.south)},
    )
    assert other.status_code == 403
    customers = await client.get(
        "/api/v1/admin/users", headers=auth(staff.north_admin), params={"role": "customer"}
    )
    assert customers.status_code == 403
    assert "ask a platform admin" in customers.json()["detail"]
    south_email = str(staff.south_clerk.email)
    assert await list_users(client, staff.north_admin, email=south_email) == []


async def test_a_clerk_shared_by_two_theaters_shows_only_the_admins_theater(
    client: AsyncTestClient, session: AsyncSession, staff: Staff
) -> None:
    shared, _ = await make_user(session, role=Role.CLERK, theater_ids=[staff.north, staff.south])
    users = await list_users(client, staff.north_admin, role="clerk")
    listed = next(u for u in users if u["user_id"] == str(shared.id))
    assert listed["theater_ids"] == [str(staff.north)]


async def test_listing_users_rejects_clerks_and_bad_filters(
    client: AsyncTestClient, session: AsyncSession, staff: Staff
) -> None:
    _, clerk = await make_user(session, role=Role.CLERK, theater_ids=[staff.north])
    assert (await client.get("/api/v1/admin/users", headers=auth(clerk))).status_code == 403
    bad_role = await client.get(
        "/api/v1/admin/users", headers=auth(staff.platform), params={"role": "wizard"}
    )
    assert bad_role.status_code == 422
    assert "wizard" in bad_role.json()["detail"]
    bad_limit = await client.get(
        "/api/v1/admin/users", headers=auth(staff.platform), params={"limit": "0"}
    )
    assert bad_limit.status_code == 400


# -- resetting passwords ----------------------------------------------------------------------


async def reset(
    client: AsyncTestClient, token: str, user_id: uuid.UUID, body: dict | None = None
) -> tuple[int, dict]:
    response = await client.post(
        f"/api/v1/admin/users/{user_id}/password", headers=auth(token), json=body
    )
    return response.status_code, response.json()


async def test_reset_generates_a_password_and_ends_the_users_sessions(
    client: AsyncTestClient, staff: Staff
) -> None:
    clerk = staff.north_clerk
    old_session = await login(client, str(clerk.email), "secret-pass")
    status, out = await reset(client, staff.north_admin, clerk.id)
    assert status == 200, out
    assert out["user_id"] == str(clerk.id)
    assert out["sessions_revoked"] == 1
    assert len(out["password"]) >= 12
    assert (await client.get("/api/v1/me", headers=auth(old_session))).status_code == 401
    failed = await client.post(
        "/api/v1/auth/login", json={"email": clerk.email, "password": "secret-pass"}
    )
    assert failed.status_code == 401
    await login(client, str(clerk.email), out["password"])


async def test_reset_with_a_given_password_does_not_echo_it(
    client: AsyncTestClient, staff: Staff
) -> None:
    status, out = await reset(
        client, staff.platform, staff.south_clerk.id, {"password": "a-new-password"}
    )
    assert status == 200, out
    assert out["password"] is None
    await login(client, str(staff.south_clerk.email), "a-new-password")
    status, out = await reset(client, staff.platform, staff.south_clerk.id, {"password": "short"})
    assert status == 422
    assert "at least 8 characters" in out["detail"]


async def test_resetting_own_password_keeps_the_current_session(
    client: AsyncTestClient, staff: Staff
) -> None:
    status, out = await reset(client, staff.north_admin, staff.north_admin_id)
    assert status == 200, out
    assert (await client.get("/api/v1/me", headers=auth(staff.north_admin))).status_code == 200


async def test_theater_admin_cannot_reset_outside_own_staff(
    client: AsyncTestClient, session: AsyncSession, staff: Staff
) -> None:
    for target in (staff.south_clerk.id, staff.customer.id):
        status, out = await reset(client, staff.north_admin, target)
        assert status == 403
        assert "not one you manage" in out["detail"]
    kiosk, _ = await make_user(session, role=Role.KIOSK, theater_ids=[staff.north])
    status, out = await reset(client, staff.north_admin, kiosk.id)
    assert status == 422
    assert "kiosk tokens" in out["detail"]
    status, out = await reset(client, staff.platform, uuid.uuid4())
    assert status == 404


# -- API tokens -------------------------------------------------------------------------------


async def test_token_create_use_revoke(client: AsyncTestClient, staff: Staff) -> None:
    created = await client.post(
        "/api/v1/tokens", headers=auth(staff.north_admin), json={"name": "nightly report"}
    )
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["token"].startswith(token["prefix"])
    assert (await client.get("/api/v1/me", headers=auth(token["token"]))).status_code == 200
    listed = (await client.get("/api/v1/tokens", headers=auth(staff.north_admin))).json()
    assert token["token_id"] in {t["token_id"] for t in listed}
    assert all(t["token"] is None for t in listed)
    revoked = await client.delete(
        f"/api/v1/tokens/{token['token_id']}", headers=auth(staff.north_admin)
    )
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/me", headers=auth(token["token"]))).status_code == 401
    forever = {"name": "forever", "expires_in_days": 10**12}
    refused = await client.post("/api/v1/tokens", headers=auth(staff.north_admin), json=forever)
    assert refused.status_code == 422 and "expires_in_days must be" in refused.json()["detail"]
    # A refusal names what was refused: revoking, not creating.
    theirs = await client.post("/api/v1/tokens", headers=auth(staff.platform), json={"name": "ci"})
    refused = await client.delete(
        f"/api/v1/tokens/{theirs.json()['token_id']}", headers=auth(staff.north_admin)
    )
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("You cannot revoke a token of that account")


async def test_kiosk_tokens_belong_to_kiosk_users_of_own_theaters(
    client: AsyncTestClient, session: AsyncSession, staff: Staff
) -> None:
    north_kiosk, _ = await make_user(session, role=Role.KIOSK, theater_ids=[staff.north])
    south_kiosk, _ = await make_user(session, role=Role.KIOSK, theater_ids=[staff.south])

    async def kiosk_token(user: User) -> int:
        response = await client.post(
            "/api/v1/tokens",
            headers=auth(staff.north_admin),
            json={"name": "lobby", "kind": "kiosk", "user_id": str(user.id)},
        )
        return response.status_code

    assert await kiosk_token(north_kiosk) == 201
    assert await kiosk_token(south_kiosk) == 403
    foreign = await client.post(
        "/api/v1/tokens",
        headers=auth(staff.north_admin),
        json={"name": "x", "user_id": str(staff.south_clerk.id)},
    )
    assert foreign.json()["detail"].startswith("You cannot create a token for that account")
    assert await kiosk_token(staff.north_clerk) == 422
