"""Creates and lookups of posts without our marker (`activities.unmarked_creates`), against the
shared `unmarked_creates` rows in Postgres: a lookup after a lost answer never takes the post of
another create — any tenant's — that is answered and not yet recorded, and a create never goes
out while a lookup of its copy is listing. The platform here is a list of post ids (what
`find_ad_creative` returns); everything else is the product's own code. Each test uses a
profile of its own, so rows of other tests never meet its rows."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from flightdeck.activities.sync import SyncActivities
from flightdeck.activities.unmarked_creates import UnmarkedCreateGuard, Waiting, content_key
from flightdeck.db.engine import create_sessionmaker
from flightdeck.db.models import AuditLogEntry, SyncRecord, Tenant, UnmarkedCreate
from flightdeck.db.repositories.push_writes import PushWrites
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.repositories.unmarked_creates import (
    AlreadyClaimed,
    UnmarkedCreates,
    UnmarkedKey,
)
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.adoption import entity_ref
from flightdeck.domain.campaign_sets import AdSpec, PlatformObject
from flightdeck.domain.sync import PushEntityInput
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import RetryableError

CALL = timedelta(seconds=30)  # how long a create's call may run at most
COPY = {"type": "TEXT", "headline": "Summer sale", "body": None, "content": None}


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def guard(sessions: async_sessionmaker[AsyncSession]) -> UnmarkedCreateGuard:
    return UnmarkedCreateGuard(UnmarkedCreates(sessions))


@pytest.fixture
def profile() -> str:
    return f"t2_{uuid.uuid4().hex[:10]}"


def key(profile: str, owner: str) -> UnmarkedKey:
    return UnmarkedKey(platform="reddit", scope=profile, content_key=content_key(COPY), owner=owner)


class Pauses:
    """A `Waiting` that counts its pauses (each is a heartbeat) and never runs out of time."""

    def __init__(self) -> None:
        self.count = 0

    def waiting(self) -> Waiting:
        def beat() -> None:
            self.count += 1

        return Waiting(beat, lambda: None)


def recorder(
    sessions: async_sessionmaker[AsyncSession], k: UnmarkedKey, taken: dict[str, str | None]
) -> Callable[[int, str | None], Awaitable[bool]]:
    """`take` as the sync activity does it: the claim in one transaction with the record
    (here the record is the dict)."""

    async def take(row: int, post_id: str | None) -> bool:
        try:
            async with sessions() as session, session.begin():
                await UnmarkedCreates.claim(session, k, row, post_id)
        except AlreadyClaimed:
            return False
        taken[k.owner] = post_id
        return True

    return take


async def nothing_mapped(post_ids: list[str]) -> set[str]:
    return set()


async def claim_created(
    sessions: async_sessionmaker[AsyncSession], k: UnmarkedKey, row: int, post_id: str
) -> None:
    async with sessions() as session, session.begin():
        await UnmarkedCreates.claim(session, k, row, post_id)


async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(500):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def rows_of(sessions: async_sessionmaker[AsyncSession], profile: str) -> list[UnmarkedCreate]:
    async with sessions() as session:
        found = await session.scalars(
            select(UnmarkedCreate)
            .where(UnmarkedCreate.scope == profile)
            .order_by(UnmarkedCreate.id)
        )
        return list(found)


async def test_a_lookup_waits_for_a_create_answered_and_not_yet_recorded_and_never_takes_its_post(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    """The CI chaos failure: tenant A's post create was answered, A had not recorded the post
    yet, and tenant B's retry (its own create's answer lost, nothing made) took A's post."""
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    platform: list[str] = []
    # B's earlier attempt: its create went out and its answer was lost (it made nothing).
    b_row = await guard.before_create(b, Pauses().waiting(), CALL)
    await guard.rows.close(b_row, "lost")
    # A's create is in flight and the platform has made A's post.
    a_row = await guard.before_create(a, Pauses().waiting(), CALL)
    platform.append(f"t3_{profile}_a")
    in_flight_when_listed: list[bool] = []

    async def candidates() -> list[str]:
        in_flight_when_listed.append(await guard.rows.others_alive(b, "in_flight"))
        return list(platform)

    taken: dict[str, str | None] = {}
    lookup = await waiting_lookup(guard, sessions, b, candidates, taken)
    assert not lookup.done() and in_flight_when_listed == []
    await claim_created(sessions, a, a_row, f"t3_{profile}_a")  # A records its post
    assert await lookup is None
    assert in_flight_when_listed == [False]
    assert taken == {b.owner: None}
    states = {(r.owner, r.state, r.remote_id) for r in await rows_of(sessions, profile)}
    assert states == {(a.owner, "done", f"t3_{profile}_a"), (b.owner, "done", None)}


async def _paused(pauses: Pauses) -> bool:
    return pauses.count > 0


async def waiting_lookup(
    guard: UnmarkedCreateGuard,
    sessions: async_sessionmaker[AsyncSession],
    k: UnmarkedKey,
    candidates: Callable[[], Awaitable[list[str]]],
    taken: dict[str, str | None],
) -> asyncio.Task[str | None]:
    """`k`'s lookup, started and seen waiting (for another owner's create in flight)."""
    pauses = Pauses()
    lookup = asyncio.create_task(
        guard.lookup(k, candidates, nothing_mapped, recorder(sessions, k, taken), pauses.waiting())
    )
    await until(lambda: _paused(pauses), f"{k.owner}'s lookup to wait for a create in flight")
    return lookup


async def test_a_create_waits_while_a_lookup_of_its_copy_is_listing(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    b_row = await guard.before_create(b, Pauses().waiting(), CALL)
    await guard.rows.close(b_row, "lost")
    listing, listed = asyncio.Event(), asyncio.Event()

    async def candidates() -> list[str]:
        listing.set()
        await listed.wait()
        return [f"t3_{profile}_b"]

    taken: dict[str, str | None] = {}
    take = recorder(sessions, b, taken)
    lookup = asyncio.create_task(
        guard.lookup(b, candidates, nothing_mapped, take, Pauses().waiting())
    )
    await listing.wait()
    pauses = Pauses()
    create = asyncio.create_task(guard.before_create(a, pauses.waiting(), CALL))
    await until(lambda: _paused(pauses), "A's create to wait for B's lookup")
    assert not create.done()
    listed.set()
    assert await lookup == f"t3_{profile}_b"
    a_row = await create
    rows = {r.id: r for r in await rows_of(sessions, profile)}
    assert rows[a_row].state == "in_flight" and rows[a_row].owner == a.owner
    # A's first row was withdrawn (nothing sent), B's lookup holds B's post.
    others = [(r.owner, r.state) for r in rows.values() if r.id != a_row]
    assert others.count((a.owner, "done")) == 1
    assert taken == {b.owner: f"t3_{profile}_b"}


async def test_two_lost_creates_of_one_copy_each_get_one_post_in_creation_order(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    for k in (a, b):  # A's create first, then B's; both answers lost
        await guard.rows.close(await guard.before_create(k, Pauses().waiting(), CALL), "lost")
    platform = [f"t3_{profile}_first", f"t3_{profile}_second"]

    async def candidates() -> list[str]:
        return list(platform)

    taken: dict[str, str | None] = {}
    found_b = await guard.lookup(
        b, candidates, nothing_mapped, recorder(sessions, b, taken), Pauses().waiting()
    )
    found_a = await guard.lookup(
        a, candidates, nothing_mapped, recorder(sessions, a, taken), Pauses().waiting()
    )
    assert (found_a, found_b) == (f"t3_{profile}_first", f"t3_{profile}_second")


async def test_a_post_mapped_or_claimed_elsewhere_is_never_taken_and_a_claim_is_unique(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    await guard.rows.close(await guard.before_create(a, Pauses().waiting(), CALL), "lost")

    async def candidates() -> list[str]:
        return [f"t3_{profile}_mapped", f"t3_{profile}_claimed"]

    async def mapped(post_ids: list[str]) -> set[str]:
        return {f"t3_{profile}_mapped"} & set(post_ids)

    b_row = await guard.before_create(b, Pauses().waiting(), CALL)
    await claim_created(sessions, b, b_row, f"t3_{profile}_claimed")
    taken: dict[str, str | None] = {}
    assert (
        await guard.lookup(a, candidates, mapped, recorder(sessions, a, taken), Pauses().waiting())
        is None
    )
    # The unique claim: another owner's row cannot take a post once claimed.
    row = await guard.rows.open(a, "looking", timedelta(seconds=30))
    with pytest.raises(AlreadyClaimed):
        await claim_created(sessions, a, row, f"t3_{profile}_claimed")


async def test_a_create_whose_worker_died_stops_holding_lookups_at_its_deadline(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    # A's create may run 0.5 s at most (its attempt ends then: nothing is sent later).
    await guard.before_create(a, Pauses().waiting(), timedelta(seconds=-4.5))  # never closed
    await guard.rows.close(await guard.before_create(b, Pauses().waiting(), CALL), "lost")

    async def candidates() -> list[str]:
        return [f"t3_{profile}_a"]

    taken: dict[str, str | None] = {}
    pauses = Pauses()
    found = await guard.lookup(
        b, candidates, nothing_mapped, recorder(sessions, b, taken), pauses.waiting()
    )
    # B waited for A's row until its deadline; A's create came first, so the post is A's.
    assert pauses.count > 0 and found is None


async def test_a_retry_retires_its_own_dead_create_so_the_others_stop_waiting_for_it(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    """A worker killed mid-create leaves its rows `in_flight` (each answer lost with it). Each
    owner's retry retires its own rows first, so no lookup waits out another's deadline."""
    a, b = key(profile, "a" * 12), key(profile, "b" * 12)
    for k in (a, b):  # both creates made their post; the worker died before either answer
        await guard.before_create(k, Pauses().waiting(), CALL)
    platform = [f"t3_{profile}_a", f"t3_{profile}_b"]

    async def candidates() -> list[str]:
        return list(platform)

    taken: dict[str, str | None] = {}
    b_lookup = await waiting_lookup(guard, sessions, b, candidates, taken)
    a_waits = Pauses()
    found_a = await guard.lookup(
        a, candidates, nothing_mapped, recorder(sessions, a, taken), a_waits.waiting()
    )
    assert (found_a, await b_lookup) == (f"t3_{profile}_a", f"t3_{profile}_b")
    assert a_waits.count == 0, "A's retry found B's create retired: nothing to wait for"
    states = {(r.owner, r.state) for r in await rows_of(sessions, profile)}
    assert states == {(a.owner, "done"), (b.owner, "done")}


async def test_the_retry_sweep_forgets_settled_rows_a_day_old_and_keeps_open_ones(
    guard: UnmarkedCreateGuard, sessions: async_sessionmaker[AsyncSession], profile: str
) -> None:
    a, b, c = (key(profile, owner * 12) for owner in "abc")
    old_done = await guard.before_create(a, Pauses().waiting(), CALL)
    await claim_created(sessions, a, old_done, f"t3_{profile}")
    old_lost = await guard.before_create(b, Pauses().waiting(), CALL)
    await guard.rows.close(old_lost, "lost")
    fresh_done = await guard.before_create(c, Pauses().waiting(), CALL)
    await guard.rows.close(fresh_done)
    async with sessions() as session, session.begin():
        await session.execute(
            update(UnmarkedCreate)
            .where(UnmarkedCreate.id.in_([old_done, old_lost]))
            .values(created_at=func.now() - timedelta(days=1, minutes=1))
        )
    assert await guard.rows.prune("reddit") >= 1
    assert [r.id for r in await rows_of(sessions, profile)] == [old_lost, fresh_done]


# -- the sync activity's post create, wired to the protocol (real ledger, stub platform) ------


@pytest.fixture
async def tenant_id(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[uuid.UUID]:
    async with system_session(sessions, "cli") as session, session.begin():
        made = await TenantRepository(session).create(f"posts-{uuid.uuid4().hex[:8]}")
    yield made.id
    async with system_session(sessions, "cli") as session, session.begin():
        for model in (SyncRecord, AuditLogEntry):
            await session.execute(delete(model).where(model.tenant_id == made.id))
        await session.execute(delete(Tenant).where(Tenant.id == made.id))


class OnePostProfile:
    """The adapter calls `_create_post` makes: Reddit's shape (no marker on a post); every
    create answers with `post_id`."""

    def __init__(self, profile: str, post_id: str) -> None:
        self.profile, self.post_id, self.creates = profile, post_id, 0

    def unmarked_creative(self, account: Any, spec: Any) -> tuple[str, dict[str, object]]:
        return self.profile, COPY

    async def create_ad_creative(self, account: Any, spec: Any, *, ref: Any = None) -> Any:
        self.creates += 1
        return PlatformObject(platform_id=self.post_id, status="CREATED")


class NoBreaker:
    async def record(self, *args: Any, **kwargs: Any) -> None:
        return None


async def create_post(
    sessions: async_sessionmaker[AsyncSession], tenant: uuid.UUID, adapter: OnePostProfile
) -> tuple[uuid.UUID, Any]:
    """`_create_post` for a new ad, after the ledger's `begin`, in an activity attempt of 60 s;
    returns the ad's id and what the call returned or raised."""
    ad_id = uuid.uuid4()
    await PushWrites(sessions).begin(tenant, "post", ad_id, "reddit")
    return ad_id, await in_attempt(sessions, tenant, ad_id, adapter, "_create_post")


async def in_attempt(
    sessions: async_sessionmaker[AsyncSession],
    tenant: uuid.UUID,
    ad_id: uuid.UUID,
    adapter: Any,
    method: str,
) -> Any:
    """The sync activity's `method` (`_create_post` or `_adopt_post`) for the ad's post, in an
    activity attempt of 60 s: what it returned or raised."""
    acts = SyncActivities(sessions, cast(Any, None), cast(Any, NoBreaker()), 30)
    inp = PushEntityInput(
        tenant_id=str(tenant), platform="reddit", entity_type="post", entity_id=str(ad_id)
    )
    spec = AdSpec.model_validate(
        {
            "name": "Ad one",
            "status": "active",
            "headline": "Summer sale",
            "final_url": "https://x.io",
        }
    )
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, started_time=datetime.now(UTC), start_to_close_timeout=timedelta(seconds=60)
    )
    account = AccountContext(account_id="a2_1", profile_id=adapter.profile)
    try:
        return await env.run(getattr(acts, method), tenant, inp, ad_id, adapter, account, spec)
    except Exception as exc:  # noqa: BLE001 - the test looks at what was raised
        return exc


async def ledger_of(
    sessions: async_sessionmaker[AsyncSession], ad_id: uuid.UUID
) -> tuple[str, str | None]:
    async with system_session(sessions, "cli") as session:
        record = await session.scalar(select(SyncRecord).where(SyncRecord.entity_id == ad_id))
        assert record is not None
        return record.state, record.platform_id


async def test_a_post_create_records_its_post_and_claims_it_in_one_transaction(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, profile: str
) -> None:
    adapter = OnePostProfile(profile, f"t3_{profile}_new")
    ad_id, outcome = await create_post(sessions, tenant_id, adapter)
    assert outcome == f"t3_{profile}_new" and adapter.creates == 1
    assert await ledger_of(sessions, ad_id) == ("synced", f"t3_{profile}_new")
    [row] = await rows_of(sessions, profile)
    assert (row.state, row.remote_id) == ("done", f"t3_{profile}_new")


async def test_a_new_post_another_ads_lookup_took_first_is_not_recorded_and_is_retried(
    guard: UnmarkedCreateGuard,
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    profile: str,
) -> None:
    """The tie: another ad's lookup could not tell two identical posts apart and claimed this
    one before its create recorded it. The create records nothing and fails retryably (its
    ledger stays `requested`, so the retry looks first)."""
    other = key(profile, "f" * 12)
    taken = await guard.rows.open(other, "looking", timedelta(seconds=30))
    await claim_created(sessions, other, taken, f"t3_{profile}_new")
    adapter = OnePostProfile(profile, f"t3_{profile}_new")
    ad_id, outcome = await create_post(sessions, tenant_id, adapter)
    assert isinstance(outcome, RetryableError), outcome
    assert "taken by another ad with the same copy" in str(outcome)
    assert await ledger_of(sessions, ad_id) == ("requested", None)
    mine = [r for r in await rows_of(sessions, profile) if r.owner != other.owner]
    assert [(r.state, r.remote_id) for r in mine] == [("in_flight", None)]


async def test_a_lookup_leaves_the_post_another_attempt_of_its_ad_recorded_meanwhile(
    guard: UnmarkedCreateGuard,
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    profile: str,
) -> None:
    """Two attempts of one ad look at once (one outlived its timeout beside its retry, or a
    settle's). The first records the ad's post while the second lists; the second then
    returns that post — it neither takes another ad's post nor says none was made (after
    which its push would create a second post, or its settle record `not created`)."""
    ad_id = uuid.uuid4()
    me, other_ad = key(profile, entity_ref("post", ad_id)), key(profile, "f" * 12)
    own, foreign = f"t3_{profile}_own", f"t3_{profile}_foreign"
    await PushWrites(sessions).begin(tenant_id, "post", ad_id, "reddit")
    for k in (me, other_ad):  # both creates' answers were lost; each made a post
        await guard.rows.close(await guard.rows.open(k, "in_flight", CALL), "lost")

    class Racing:
        profile = ""

        def unmarked_creative(self, account: Any, spec: Any) -> tuple[str, dict[str, object]]:
            return profile, COPY

        async def find_ad_creative(self, account: Any, spec: Any, *, ref: Any = None) -> Any:
            # While this attempt lists, the other attempt of the same ad records its post.
            theirs = await guard.rows.open(me, "looking", CALL)
            async with tenant_session(sessions, tenant_id) as session, session.begin():
                await UnmarkedCreates.claim(session, me, theirs, own)
                await SyncRecordRepository(session).mark_synced(
                    tenant_id, "post", ad_id, "reddit", platform_id=own, snapshot={}, fetch=False
                )
            return [PlatformObject(platform_id=p, status="CREATED") for p in (own, foreign)]

    adapter = Racing()
    adapter.profile = profile
    outcome = await in_attempt(sessions, tenant_id, ad_id, adapter, "_adopt_post")
    assert outcome == own
    assert await ledger_of(sessions, ad_id) == ("synced", own)
    claimed = {r.remote_id for r in await rows_of(sessions, profile)}
    assert own in claimed and foreign not in claimed  # the other ad's post is left to it
