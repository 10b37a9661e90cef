"""The per-show virtual waiting room: admission control in front of seat selection.

At most ``capacity`` buyers of a show hold a *turn* (may pick seats) at once. A turn lasts
``turn`` since the buyer last acted (renewed in Redis at most every ``RENEW_EVERY``) and ends
early when they finish (book or release). Everyone else waits in a first-in-first-out queue;
whenever a turn frees up, the queue's head is admitted by the next call that reaches the room
(whoever makes it). Buyers who come before a show's
``sale_opens_at`` wait in a pre-queue that is shuffled at opening and put ahead of later
arrivals, so being first to refresh before the sale gains nothing.

The whole room lives in Redis and every answer is one Lua script (atomic, one round trip), so it
holds across any number of server processes. Keys are ``bms:wr:{<show id>}:<part>``; the braces
are a Redis Cluster hash tag that keeps one show's keys in one slot, as a script needs. Every
call renews their TTL, so a room nobody touches disappears on its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from server.contracts.api import AdmissionOut
from server.domain.errors import NotFound, TooManyRequests
from server.domain.inventory import queries as inventory_queries
from server.infra.state import Services
from server.infra.ttl_cache import TtlCache

TURN_LENGTH = timedelta(minutes=10)
# A buyer promoted by someone else's call must poll within this window to keep the turn, so
# heads of the queue who walked away cost a slot for a minute, not for a whole turn.
CLAIM_WINDOW = timedelta(seconds=60)
# Admissions from the queue counted for the outflow rate behind estimated waits.
OUTFLOW_WINDOW = timedelta(minutes=5)
# How long a room with no calls at all outlives its last turn.
ROOM_LINGER = timedelta(minutes=30)
# Waiting clients are told to poll at least this often, well inside CLAIM_WINDOW.
MAX_POLL_SECONDS = 15
SALE_OPENS_CACHE_SECONDS = 5.0
PER_PROCESS_ENTRIES = 10_000
MAX_BATCH = 500  # buyers per script call, so that no single call keeps Redis busy for long
# An admitted buyer's turn is renewed in Redis at most this often (or a quarter of a turn when
# turns are shorter): in a stampede every hold request passes the gate, and renewing a
# ten-minute turn on every click costs a Redis round trip each for nothing.
RENEW_EVERY = timedelta(seconds=30)

# KEYS: 1 turns (zset buyer -> turn end, ms)  2 queue (zset buyer -> ticket)  3 ticket counter
#       4 pre-queue (set)  5 opened flag  6 outflow (zset buyer -> admitted from queue at, ms)
# ARGV: 1 now ms  2 buyers (space-separated, in order of arrival)  3 'join' | 'peek'
#       4 capacity  5 turn ms  6 claim ms  7 sale opens ms (0: no pre-sale)  8 shuffle seed
#       9 idle TTL ms  10 outflow window ms
# Returns {queue length, active turns, admissions from the queue within the outflow window,
#          then per buyer: state, position (0: none), turn end ms (0: none)}.
_ROOM_SCRIPT = """
local now, joining = tonumber(ARGV[1]), ARGV[3] == 'join'
local capacity, turn, claim = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local opens = tonumber(ARGV[7])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[10]))

-- Once any process has opened the sale, a process whose clock lags cannot reopen a pre-sale.
local presale = opens > now and redis.call('EXISTS', KEYS[5]) == 0
if not presale then
  local early = redis.call('SMEMBERS', KEYS[4])
  if #early > 0 then
    -- Sorted first so the order depends only on who came and the seed (Fisher-Yates).
    table.sort(early)
    math.randomseed(tonumber(ARGV[8]))
    for i = #early, 2, -1 do
      local j = math.random(i)
      early[i], early[j] = early[j], early[i]
    end
    for _, member in ipairs(early) do
      redis.call('ZADD', KEYS[2], 'NX', redis.call('INCR', KEYS[3]), member)
    end
    redis.call('DEL', KEYS[4])
  end
  if opens > 0 then redis.call('SET', KEYS[5], '1') end
end

local active = redis.call('ZCARD', KEYS[1])
if active < capacity then
  local heads = redis.call('ZPOPMIN', KEYS[2], capacity - active)
  for i = 1, #heads, 2 do
    redis.call('ZADD', KEYS[1], now + claim, heads[i])
    redis.call('ZADD', KEYS[6], now, heads[i])
  end
  active = active + #heads / 2
end

-- Three slots for the room's numbers, filled last; then three per buyer, in arrival order.
local answers = {0, 0, 0}
for buyer in string.gmatch(ARGV[2], '%S+') do
  local state, position, ends = 'outside', 0, tonumber(redis.call('ZSCORE', KEYS[1], buyer))
  if ends then
    state = 'admitted'
    if joining then
      ends = now + turn
      redis.call('ZADD', KEYS[1], ends, buyer)
    end
  else
    ends = 0
    local rank = redis.call('ZRANK', KEYS[2], buyer)
    if rank then
      state, position = 'queued', rank + 1
    elseif presale then
      if joining then redis.call('SADD', KEYS[4], buyer) end
      if redis.call('SISMEMBER', KEYS[4], buyer) == 1 then state = 'presale' end
    elseif joining and active < capacity then
      -- Free slots left after promotion mean the queue is empty: straight in.
      state, ends, active = 'admitted', now + turn, active + 1
      redis.call('ZADD', KEYS[1], ends, buyer)
    elseif joining then
      redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), buyer)
      state, position = 'queued', redis.call('ZCARD', KEYS[2])
    end
  end
  answers[#answers + 1] = state
  answers[#answers + 1] = position
  answers[#answers + 1] = ends
end

local ttl = math.max(opens - now, 0) + tonumber(ARGV[9])
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
answers[1], answers[2], answers[3] = redis.call('ZCARD', KEYS[2]), active, redis.call('ZCARD', KEYS[6])
return answers
"""


class Mode(StrEnum):
    JOIN = "join"  # enter (or keep a place in) the room; renews an admitted buyer's turn
    PEEK = "peek"  # report only: never adds this buyer, never renews their turn


@dataclass(frozen=True, slots=True)
class RoomState:
    """What the script saw for one buyer, in plain numbers."""

    state: str  # admitted | queued | presale | outside
    position: int
    turn_ends_ms: int
    queue_length: int
    active: int
    recent_admissions: int


def _keys(show_id: uuid.UUID) -> list[str]:
    prefix = f"bms:wr:{{{show_id}}}"
    return [f"{prefix}:{part}" for part in ("turns", "queue", "ticket", "early", "opened", "out")]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def admission_token(secret: str, show_id: uuid.UUID, buyer_id: uuid.UUID, expires: int) -> str:
    """``<expiry unix seconds>.<base64url HMAC-SHA256 of show:buyer:expiry>``, signed with the
    server secret, so anything holding the secret can check a pass without asking Redis."""
    message = f"{show_id}:{buyer_id}:{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return f"{expires}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


Arrival = tuple[uuid.UUID, asyncio.Future[RoomState]]


@dataclass
class Batch:
    """Buyers of one show who arrived while the room's last call was still out."""

    arrivals: list[Arrival] = field(default_factory=list)
    sender: asyncio.Task[None] | None = None  # held so the loop cannot drop it mid-call


def _settle(arrivals: list[Arrival], error: BaseException) -> None:
    for _, answer in arrivals:
        if not answer.done():
            answer.set_exception(error)


class WaitingRoom:
    """The per-process handle on the shared rooms: the Lua script, a short cache of each
    show's ``sale_opens_at``, and the knobs tests turn (turn length, shuffle seed)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.turn = TURN_LENGTH
        self.shuffle_seed: Callable[[], int] = lambda: secrets.randbits(31)
        self._script = services.redis.register_script(_ROOM_SCRIPT)
        # A show's opening, read once per few seconds however many buyers arrive at once.
        self._sale_opens: TtlCache[uuid.UUID, tuple[datetime | None]] = TtlCache(
            SALE_OPENS_CACHE_SECONDS, PER_PROCESS_ENTRIES
        )
        # (show, buyer) -> when this process last saw their turn renewed (by the injected clock).
        self.renewed: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
        # Buyers waiting to be sent to the room, per (show, mode, capacity).
        self._batches: dict[tuple[uuid.UUID, Mode, int], Batch] = {}

    def renewed_recently(self, show_id: uuid.UUID, buyer_id: uuid.UUID) -> bool:
        renewed = self.renewed.get((show_id, buyer_id))
        fresh_for = min(RENEW_EVERY, self.turn / 4)
        return renewed is not None and self.services.clock.now() - renewed < fresh_for

    def note_renewed(self, show_id: uuid.UUID, buyer_id: uuid.UUID) -> None:
        if len(self.renewed) >= PER_PROCESS_ENTRIES:
            self.renewed.clear()  # bounded; an evicted buyer just costs one more Redis call
        self.renewed[(show_id, buyer_id)] = self.services.clock.now()

    @classmethod
    def of(cls, services: Services) -> WaitingRoom:
        room = services.extras.get("waiting_room")
        if room is None:
            room = services.extras["waiting_room"] = cls(services)
        return room

    async def sale_opens_at(self, show_id: uuid.UUID) -> datetime | None:
        # Wrapped in a tuple because the cache keeps no None, and "no pre-sale" is None.
        found = await self._sale_opens.get_or_load(show_id, lambda: self._read_opening(show_id))
        if found is None:
            raise NotFound(f"There is no show {show_id}; pick a show from GET /api/v1/shows.")
        return found[0]

    async def _read_opening(self, show_id: uuid.UUID) -> tuple[datetime | None] | None:
        async with self.services.engine.connect() as conn:
            terms = await inventory_queries.show_terms(conn, show_id)
        return None if terms is None else (terms.sale_opens_at,)

    async def visit(
        self, show_id: uuid.UUID, buyer_id: uuid.UUID, mode: Mode, capacity: int | None
    ) -> AdmissionOut:
        """Expire, open the sale, promote queue heads into free turns, then answer this buyer.

        Buyers of one show who arrive together share one script call (in order of arrival, as
        if one by one): on a release night a thousand first requests of a show cost a few
        Redis round trips, not a thousand."""
        opens = await self.sale_opens_at(show_id)
        limit = capacity or self.services.settings.waiting_room_capacity
        now = self.services.clock.now()
        batch = self._batches.get((show_id, mode, limit))
        if batch is None:
            batch = self._batches[show_id, mode, limit] = Batch()
            batch.sender = asyncio.create_task(self._send(show_id, mode, limit, opens, batch))
        answer: asyncio.Future[RoomState] = asyncio.get_running_loop().create_future()
        batch.arrivals.append((buyer_id, answer))
        return self._answer(show_id, buyer_id, await answer, limit, opens, now)

    async def _send(
        self, show_id: uuid.UUID, mode: Mode, limit: int, opens: datetime | None, batch: Batch
    ) -> None:
        """Send whoever has arrived, and again for whoever arrived meanwhile, until none."""
        arrivals: list[Arrival] = []
        try:
            while batch.arrivals:
                arrivals, batch.arrivals = batch.arrivals[:MAX_BATCH], batch.arrivals[MAX_BATCH:]
                try:
                    seen = await self._call(show_id, [b for b, _ in arrivals], mode, limit, opens)
                except Exception as exc:
                    _settle(arrivals, exc)
                    continue
                for (_, answer), state in zip(arrivals, seen, strict=True):
                    if not answer.done():  # else that request is gone (its client hung up)
                        answer.set_result(state)
        finally:
            del self._batches[show_id, mode, limit]
            # Only when this task is cancelled (shutdown): nobody may wait for it forever.
            _settle(arrivals + batch.arrivals, RuntimeError("the waiting room call was stopped"))

    async def _call(
        self,
        show_id: uuid.UUID,
        buyers: list[uuid.UUID],
        mode: Mode,
        limit: int,
        opens: datetime | None,
    ) -> list[RoomState]:
        raw = await self._script(
            keys=_keys(show_id),
            args=[
                _ms(self.services.clock.now()),
                " ".join(map(str, buyers)),
                mode.value,
                limit,
                int(self.turn.total_seconds() * 1000),
                int(min(CLAIM_WINDOW, self.turn).total_seconds() * 1000),
                _ms(opens) if opens else 0,
                self.shuffle_seed(),
                int((self.turn + ROOM_LINGER).total_seconds() * 1000),
                int(OUTFLOW_WINDOW.total_seconds() * 1000),
            ],
        )
        queue_length, active, recent = (int(value) for value in raw[:3])
        return [
            RoomState(
                raw[at].decode(), int(raw[at + 1]), int(raw[at + 2]), queue_length, active, recent
            )
            for at in range(3, len(raw), 3)
        ]

    def _answer(
        self,
        show_id: uuid.UUID,
        buyer_id: uuid.UUID,
        seen: RoomState,
        capacity: int,
        opens: datetime | None,
        now: datetime,
    ) -> AdmissionOut:
        if seen.state == "admitted":
            expires = seen.turn_ends_ms // 1000
            token = admission_token(self.services.secret, show_id, buyer_id, expires)
            return AdmissionOut(
                show_id=show_id, admitted=True, estimated_wait_seconds=0, admission_token=token
            )
        if opens is not None and opens > now and seen.state in ("presale", "outside"):
            # The draw at opening decides places; until then the wait is the time to opening.
            wait = math.ceil((opens - now).total_seconds())
        elif seen.state == "queued":
            wait = self._estimate(seen.position, capacity, seen.recent_admissions)
        elif seen.active < capacity and seen.queue_length == 0:
            wait = 0  # an outsider asking: joining now would admit them at once
        else:
            wait = self._estimate(seen.queue_length + 1, capacity, seen.recent_admissions)
        position = seen.position or None
        return AdmissionOut(
            show_id=show_id, admitted=False, position=position, estimated_wait_seconds=wait
        )

    def _estimate(self, position: int, capacity: int, recent_admissions: int) -> int:
        """Seconds until ``position`` is admitted: at the measured outflow when there is one,
        else as if every turn ran its full length."""
        if recent_admissions:
            per_second = recent_admissions / OUTFLOW_WINDOW.total_seconds()
            return math.ceil(position / per_second)
        return math.ceil(self.turn.total_seconds() * position / capacity)


def retry_after_seconds(out: AdmissionOut) -> int:
    """How long a waiting client should sleep before polling again."""
    return max(1, min(out.estimated_wait_seconds or 1, MAX_POLL_SECONDS))


async def join(
    services: Services, show_id: uuid.UUID, buyer_id: uuid.UUID, *, capacity: int | None = None
) -> AdmissionOut:
    """Enter the room, or poll a place already held; an admitted buyer's turn is renewed."""
    return await WaitingRoom.of(services).visit(show_id, buyer_id, Mode.JOIN, capacity)


async def status(
    services: Services, show_id: uuid.UUID, buyer_id: uuid.UUID, *, capacity: int | None = None
) -> AdmissionOut:
    """Where this buyer stands, without joining or renewing anything."""
    return await WaitingRoom.of(services).visit(show_id, buyer_id, Mode.PEEK, capacity)


async def check_admitted(
    services: Services, show_id: uuid.UUID, buyer_id: uuid.UUID, *, capacity: int | None = None
) -> None:
    """Gate for seat holds. When the room is not engaged (free turns, nobody queued) this takes
    a turn on the buyer's behalf, so a quiet day costs one Redis call and no extra client step;
    otherwise the buyer needs a turn, and gets a place in the queue and a 429 if they have none.
    """
    room = WaitingRoom.of(services)
    if room.renewed_recently(show_id, buyer_id):
        return
    out = await room.visit(show_id, buyer_id, Mode.JOIN, capacity)
    if out.admitted:
        room.note_renewed(show_id, buyer_id)
        return
    if out.position:
        why = f"Too many buyers are picking seats now; you are number {out.position} in line"
    else:
        why = "Sale for this show has not opened; your place is drawn at opening"
    raise TooManyRequests(
        f"{why}. Poll POST /api/v1/shows/{show_id}/admission until it admits you, then hold seats.",
        retry_after_seconds=retry_after_seconds(out),
        position=out.position,
        estimated_wait_seconds=out.estimated_wait_seconds,
    )


async def finish(services: Services, show_id: uuid.UUID, buyer_id: uuid.UUID) -> None:
    """End this buyer's turn or leave the queue (booked, released, or gave up); the freed turn
    goes to the head of the queue on the next call. Finishing twice is harmless."""
    WaitingRoom.of(services).renewed.pop((show_id, buyer_id), None)
    turns, queue, _, early, _, _ = _keys(show_id)
    member = str(buyer_id)
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.zrem(turns, member)
        pipe.zrem(queue, member)
        pipe.srem(early, member)
        await pipe.execute()
