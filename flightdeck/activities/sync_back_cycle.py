"""One account's sync-back comparison and local writes (seed 002 §6), in bulk.

A cycle loads the account's synced campaigns, ad groups and ads with their sync records (the
base) as plain rows, and compares each with what the platform reported, three ways:
- an entity whose platform fields equal its base changed nothing there: the local side is not
  even read (most entities, every cycle);
- the rest are compared against the local values, field by field (sets merged), and
  - fields only the platform changed (or changed on both sides alike, or set additions and
    removals) are taken locally *and* into the base, so no push sends them back;
  - fields both sides changed differently open a conflict, or refresh the platform value of
    the entity's open one (audit `conflict.refreshed`);
- entities gone from the platform are soft-deleted — unless that is more than the account's
  allowed share, then the deletions are held for a person (alert `sync_back_deletions_held`).

Writes are a handful of statements per cycle (executemany per table), not per field. One
entity's problem — a rename that collides with a local unique name, a value we cannot hold —
is recorded on that entity (a conflict with its reason, or `syncError` + audit) and the rest
of the account is still applied.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AdGroup, AuditLogEntry, GeneratedCampaign, SyncRecord
from flightdeck.db.models.campaign_sets import GeneratedAd, Keyword
from flightdeck.db.repositories.campaign_sets import to_ad_group_spec, to_ad_spec, to_campaign_spec
from flightdeck.db.repositories.sync_back import (
    AlertRepository,
    ConflictRepository,
    SyncedEntities,
)
from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.sync_back import (
    CompareEntityType,
    Comparison,
    PlatformSnapshot,
    compare_normalised,
    normalise,
    platform_differs,
    platform_state_fields,
    spec_fields,
)
from flightdeck.domain.sync_back_io import ConflictRef
from flightdeck.temporal import conflict_workflow_id

ACTOR = "sync-back"
MODELS: dict[str, Any] = {"campaign": GeneratedCampaign, "ad_group": AdGroup, "ad": GeneratedAd}
PLATFORM_ID_COLUMNS = {
    "campaign": "platform_campaign_id",
    "ad_group": "platform_ad_group_id",
    "ad": "platform_ad_id",
}
HELD_ALERT = "sync_back_deletions_held"
LOCAL_STATUSES = frozenset({"active", "paused", "archived"})
OUR_BID_STRATEGIES = frozenset(vocab.BID_STRATEGIES)
TARGETING_LISTS = ("communities", "interests", "geolocations", "devices")
HEADLINE_MAX = 300  # generated_ads.headline (Google's RSA copy, one headline a line, can be more)


class EntityProblem(ValueError):
    """A platform value this entity cannot take locally; recorded on the entity."""


class _Pending:
    """One entity's writes, collected for the bulk statements."""

    def __init__(self, entity_type: str, row: Any, record: Any) -> None:
        self.entity_type, self.row, self.record = entity_type, row, record
        self.columns: dict[str, Any] = {}
        self.snapshot: dict[str, Any] | None = None
        self.keywords: dict[bool, list[str]] = {}  # negative -> the live set to have
        self.audits: list[tuple[str, dict[str, Any]]] = []
        self.changes: list[dict[str, Any]] = []


class Cycle:
    """One account's comparison and local writes, inside one transaction."""

    def __init__(
        self,
        session: AsyncSession,
        tenant: uuid.UUID,
        platform: str,
        snapshot: PlatformSnapshot,
        *,
        max_delete_share: float,
        min_delete_hold: int,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.session, self.tenant, self.platform, self.snapshot = (
            session,
            tenant,
            platform,
            snapshot,
        )
        self.max_delete_share, self.min_delete_hold = max_delete_share, min_delete_hold
        self.heartbeat = heartbeat
        self.entities = SyncedEntities(session)
        self.changes: list[dict[str, Any]] = []
        self.conflicts: list[ConflictRef] = []
        self.problems: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] = []
        self._audits: list[dict[str, Any]] = []
        self._to_open: list[tuple[str, Any, list[dict[str, Any]]]] = []
        self.checked = 0
        self.deleted = 0
        self.statements = 0

    # -- the cycle ------------------------------------------------------------------------------

    async def run(self, account_id: uuid.UUID) -> None:
        loaded = await self.entities.load_account(self.tenant, account_id, self.platform)
        self.statements += loaded.statements
        open_conflicts = {
            (c.entity_type, c.entity_id): c
            for c in await ConflictRepository(self.session).open_for_entities(self.tenant)
        }
        self.statements += 1
        states: dict[str, dict[str, Any] | None] = {
            "campaign": self.snapshot.campaigns,
            "ad_group": self.snapshot.ad_groups,
            "ad": self.snapshot.ads,
        }
        gone: list[tuple[str, Any]] = []
        examine: list[tuple[str, Any, Any, dict[str, Any], dict[str, Any]]] = []
        for entity_type, rows in (
            ("campaign", loaded.campaigns),
            ("ad_group", loaded.ad_groups),
            ("ad", loaded.ads),
        ):
            polled = states[entity_type]
            if polled is None:
                continue  # not read this cycle: nothing to tell
            kind = cast(CompareEntityType, entity_type)
            reported = self.snapshot.reported(entity_type)  # what this platform can see
            for i, (row, record) in enumerate(rows):
                if i % 2000 == 0:
                    self.heartbeat()
                self.checked += 1
                state = polled.get(getattr(row, PLATFORM_ID_COLUMNS[entity_type]) or "")
                if state is None and self.snapshot.since is not None:
                    continue  # an incremental listing: unchanged since the last read
                if state is None or state.deleted or state.status == "deleted":
                    gone.append((entity_type, row))
                    continue
                if record is None or not record.synced_snapshot:
                    continue  # nothing to tell changes apart by
                if state.edited_outside is False and (entity_type, row.id) not in open_conflicts:
                    continue  # only our own pushes changed it (Google's change_event)
                try:
                    base = normalise(kind, "spec", _snapshot_fields(entity_type, record))
                    platform = normalise(
                        kind, "platform", platform_state_fields(state, reported), reported
                    )
                except (ValueError, TypeError) as exc:
                    self._problem(entity_type, row, f"cannot read the platform's values: {exc}")
                    continue
                if platform_differs(kind, base, platform) or (entity_type, row.id) in (
                    open_conflicts
                ):
                    examine.append((entity_type, row, record, base, platform))
        examine = await self._with_full_rows(examine)
        keywords = await self.entities.live_keywords(
            self.tenant, [row.id for t, row, *_ in examine if t == "ad_group"]
        )
        self.statements += 1
        pending: list[_Pending] = []
        for entity_type, row, record, base, platform in examine:
            try:
                item = await self._examine(
                    entity_type, row, record, base, platform, keywords.get(row.id, []),
                    open_conflicts.get((entity_type, row.id)),
                )  # fmt: skip
            except EntityProblem as exc:
                self._problem(entity_type, row, str(exc))
                continue
            if item is not None:
                pending.append(item)
        await self._open_conflicts()
        await self._write(pending, keywords)
        await self._deletions(account_id, gone)
        await self._flush_audits()

    async def _with_full_rows(
        self, examine: list[tuple[str, Any, Any, dict[str, Any], dict[str, Any]]]
    ) -> list[tuple[str, Any, Any, dict[str, Any], dict[str, Any]]]:
        """The entities to compare field by field, with every column (the load read only ids):
        one statement per entity type that has any."""
        full: dict[str, dict[uuid.UUID, Any]] = {}
        for entity_type, model in MODELS.items():
            ids = [row.id for t, row, *_ in examine if t == entity_type]
            if ids:
                full[entity_type] = await self.entities.full_rows(model, ids)
                self.statements += 1
        return [
            (t, _as_loaded(t, full[t][row.id], row), *rest)
            for t, row, *rest in examine
            if row.id in full.get(t, {})  # deleted here since the load: nothing to take
        ]

    async def _examine(
        self,
        entity_type: str,
        row: Any,
        record: Any,
        base: dict[str, Any],
        platform: dict[str, Any],
        keywords: list[Any],
        conflict: Any,
    ) -> _Pending | None:
        kind = cast(CompareEntityType, entity_type)
        try:
            local = normalise(kind, "spec", spec_fields(_spec(entity_type, row, keywords)))
        except ValueError as exc:
            raise EntityProblem(f"cannot read the local values: {exc}") from exc
        comparison = compare_normalised(kind, base, local, platform)
        disputed = {f.field for f in comparison.conflicts}
        if conflict is not None:
            disputed |= {f["field"] for f in conflict.fields}
            await self._refresh_conflict(entity_type, row, conflict, comparison, disputed)
        elif disputed:
            self._to_open.append((entity_type, row, _dump_fields(comparison.conflicts, None)))
        taken = {k: v for k, v in comparison.platform_values.items() if k not in disputed}
        if not taken:
            return None
        item = _Pending(entity_type, row, record)
        base_values = comparison.base_values
        item.columns = _columns(entity_type, row, taken)
        item.snapshot = _new_base(entity_type, row, record.synced_snapshot, base_values)
        for name in ("keywords", "excluded_keywords"):
            if name in taken:
                item.keywords[name == "excluded_keywords"] = taken[name]
        for name, value in taken.items():
            before = comparison.fields[name].local
            item.changes.append(_change(entity_type, row.id, name, before, value))
            item.audits.append(
                (
                    f"{entity_type}.changed_on_platform",
                    {"source": "platform", "field": name, "from": _jsonable(before),
                     "to": _jsonable(value)},
                )
            )  # fmt: skip
        return item

    # -- conflicts ------------------------------------------------------------------------------

    async def _open_conflicts(self) -> None:
        """Every conflict this cycle found, in three statements: one upsert, one status update
        per entity type (and the audit entries with the rest)."""
        if not self._to_open:
            return
        opened = await ConflictRepository(self.session).open_many(
            self.tenant,
            [
                {"entity_type": t, "entity_id": row.id, "platform": self.platform,
                 "platform_id": str(getattr(row, PLATFORM_ID_COLUMNS[t])), "fields": fields,
                 "workflow_id": conflict_workflow_id(t, str(row.id))}
                for t, row, fields in self._to_open
            ],
        )  # fmt: skip
        by_type: dict[str, list[uuid.UUID]] = defaultdict(list)
        for (entity_type, row, fields), (conflict, created) in zip(
            self._to_open, opened, strict=True
        ):
            by_type[entity_type].append(row.id)
            if created:
                self._audit("conflict.opened", entity_type, row.id,
                            conflictId=str(conflict.id), fields=fields)  # fmt: skip
            self.conflicts.append(
                ConflictRef(
                    conflict_id=str(conflict.id),
                    entity_type=entity_type,  # type: ignore[arg-type]
                    entity_id=str(row.id),
                )
            )
        for entity_type, ids in by_type.items():
            table = _table(MODELS[entity_type])
            await self.session.execute(
                update(table).where(table.c.id.in_(ids)).values(sync_status="conflict")
            )
        self.statements += 2 + len(by_type)
        self._to_open = []

    async def _refresh_conflict(
        self, entity_type: str, row: Any, conflict: Any, comparison: Comparison, disputed: set[str]
    ) -> None:
        """The open conflict keeps its base; its local and platform values become today's."""
        stored = {f["field"]: f for f in conflict.fields}
        fields = []
        for name in sorted(disputed, key=list(comparison.fields).index):
            now = comparison.fields[name].model_dump(mode="json", exclude={"outcome", "merged"})
            now["base"] = stored.get(name, now)["base"]
            if "reason" in stored.get(name, {}):
                now["reason"] = stored[name]["reason"]
            fields.append(now)
        if fields == conflict.fields:
            return
        refreshed = [
            {"field": f["field"], "from": stored.get(f["field"], {}).get("platform"),
             "to": f["platform"]}
            for f in fields
            if stored.get(f["field"], {}).get("platform") != f["platform"]
        ]  # fmt: skip
        await ConflictRepository(self.session).refresh_fields(self.tenant, conflict.id, fields)
        self.statements += 1
        self._audit("conflict.refreshed", entity_type, row.id, conflictId=str(conflict.id),
                    platformValues=refreshed or None, fields=fields)  # fmt: skip

    # -- writes ---------------------------------------------------------------------------------

    async def _write(self, pending: list[_Pending], keywords: dict[uuid.UUID, list[Any]]) -> None:
        """Every taken change in a few executemany statements; on a constraint violation, the
        same entity by entity to find the one(s) that cannot take their change."""
        if not pending:
            return
        try:
            async with self.session.begin_nested():
                await self._apply(pending, keywords)
            applied = pending
        except IntegrityError:
            applied = []
            for item in pending:
                try:
                    async with self.session.begin_nested():
                        await self._apply([item], keywords)
                    applied.append(item)
                except IntegrityError as exc:
                    await self._refused(item, exc)
        for item in applied:
            self.changes.extend(item.changes)
            for action, details in item.audits:
                self._audit(action, item.entity_type, item.row.id, **details)

    async def _apply(self, items: list[_Pending], keywords: dict[uuid.UUID, list[Any]]) -> None:
        by_shape: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
        snapshots = []
        new_keywords: list[dict[str, Any]] = []
        dropped_keywords: list[uuid.UUID] = []
        now = datetime.now(UTC)
        for item in items:
            columns = {**item.columns, "sync_error": None}
            shape = (item.entity_type, tuple(sorted(columns)))
            by_shape[shape].append({"_id": item.row.id, **columns})
            if item.snapshot is not None:
                snapshots.append({"_id": item.record.id, "synced_snapshot": item.snapshot})
            for negative, wanted in item.keywords.items():
                live = [k for k in keywords.get(item.row.id, []) if k.negative == negative]
                have = {k.text for k in live if k.status == "active"}
                for k in live:
                    if k.status == "active" and k.text not in wanted:
                        dropped_keywords.append(k.id)
                for text in wanted:
                    if text not in have:
                        new_keywords.append(
                            {"id": uuid.uuid4(), "tenant_id": self.tenant,
                             "ad_group_id": item.row.id, "text": text, "negative": negative,
                             "status": "active", "sync_status": "synced"}
                        )  # fmt: skip
        for (entity_type, names), params in by_shape.items():
            table = _table(MODELS[entity_type])
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({name: bindparam(name) for name in names})
            )
            await self.session.execute(statement, params)
            self.statements += 1
        if snapshots:
            table = _table(SyncRecord)
            await self.session.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values(synced_snapshot=bindparam("synced_snapshot")),
                snapshots,
            )
            self.statements += 1
        if dropped_keywords:
            await self.session.execute(
                update(_table(Keyword))
                .where(_table(Keyword).c.id.in_(dropped_keywords))
                .values(deleted_at=now, sync_status="synced")
            )
            self.statements += 1
        if new_keywords:
            await self.session.execute(insert(_table(Keyword)), new_keywords)
            self.statements += 1

    async def _refused(self, item: _Pending, exc: IntegrityError) -> None:
        """The entity cannot take the platform's change (a unique name taken, most likely):
        a conflict naming the reason, so a person decides and no push overwrites it."""
        names = [c["field"] for c in item.changes]
        reason = _integrity_reason(item.entity_type, exc)
        fields = [
            _FieldView(name, base=_jsonable((item.record.synced_snapshot or {}).get(name)),
                       local=c["from"], platform=c["to"])
            for name, c in zip(names, item.changes, strict=True)
        ]  # fmt: skip
        async with self.session.begin_nested():
            self._to_open.append((item.entity_type, item.row, _dump_fields(fields, reason)))
            await self._open_conflicts()
            await self.entities.set_sync_error(MODELS[item.entity_type], item.row.id, reason)
        self.problems.append(
            {"entityType": item.entity_type, "entityId": str(item.row.id), "error": reason}
        )

    def _problem(self, entity_type: str, row: Any, message: str) -> None:
        """Recorded on the entity after the cycle's writes (`syncError`, audit, run row)."""
        self.problems.append(
            {"entityType": entity_type, "entityId": str(row.id), "error": message, "_row": row}
        )

    async def record_problems(self) -> None:
        for problem in self.problems:
            row = problem.pop("_row", None)
            if row is None:
                continue
            await self.entities.set_sync_error(
                MODELS[problem["entityType"]], row.id, problem["error"]
            )
            self.statements += 1
            self._audit("sync_back.entity_failed", problem["entityType"], row.id,
                        error=problem["error"])  # fmt: skip
        await self._flush_audits()

    # -- deletions ------------------------------------------------------------------------------

    async def _deletions(self, account_id: uuid.UUID, gone: list[tuple[str, Any]]) -> None:
        if not gone:
            return
        limit = max(self.min_delete_hold, int(self.max_delete_share * self.checked))
        if len(gone) > limit:
            self.held = [
                {"entityType": t, "entityId": str(row.id),
                 "platformId": str(getattr(row, PLATFORM_ID_COLUMNS[t]))}
                for t, row in gone
            ]  # fmt: skip
            # Still held from an earlier cycle: this run holds them now (the older holds
            # are superseded) and the alert already raised stays the one to answer.
            await self.entities.supersede_holds(self.tenant, account_id)
            if await self.entities.open_alert(self.tenant, HELD_ALERT, str(account_id)):
                self.statements += 2
                return
            await AlertRepository(self.session).add(
                self.tenant,
                kind=HELD_ALERT,
                entity_type="ad_account",
                entity_id=str(account_id),
                severity="HIGH",
                message=(
                    f"sync-back found {len(gone)} of {self.checked} synced entities gone on "
                    f"{self.platform}; more than the {self.max_delete_share:.0%} allowed: "
                    "nothing was deleted. Release or discard the held deletions."
                ),
                details={"held": len(gone), "checked": self.checked, "limit": limit},
            )
            self.statements += 1
            return
        await self.entities.mark_all_deleted_on_platform(self.tenant, self.platform, gone)
        self.statements += 2 * len({t for t, _ in gone})
        for entity_type, row in gone:
            self.deleted += 1
            self.changes.append(_change(entity_type, row.id, "deleted", False, True))
            self._audit(f"{entity_type}.deleted_on_platform", entity_type, row.id,
                        source="platform",
                        platformId=str(getattr(row, PLATFORM_ID_COLUMNS[entity_type])))  # fmt: skip

    # -- audit ----------------------------------------------------------------------------------

    def _audit(self, action: str, entity_type: str, entity_id: Any, **details: Any) -> None:
        self._audits.append(
            {
                "tenant_id": self.tenant,
                "actor": ACTOR,
                "action": action,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "details": {k: v for k, v in details.items() if v is not None},
            }
        )

    async def _flush_audits(self) -> None:
        entries = self._audits
        if entries:
            await self.session.execute(insert(_table(AuditLogEntry)), entries)
            self.statements += 1
        self._audits = []


class _FieldView:
    """A conflict field built by hand (a refused take), dumped like a FieldComparison."""

    def __init__(self, field: str, *, base: Any, local: Any, platform: Any) -> None:
        self.field, self.base, self.local, self.platform = field, base, local, platform

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {"field": self.field, "base": self.base, "local": self.local,
                "platform": self.platform}  # fmt: skip


# -- field plumbing ---------------------------------------------------------------------------


def _dump_fields(fields: Iterable[Any], reason: str | None) -> list[dict[str, Any]]:
    dumped = [f.model_dump(mode="json", exclude={"outcome", "merged"}) for f in fields]
    if reason:
        for f in dumped:
            f["reason"] = reason
    return dumped


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _spec(entity_type: str, row: Any, keywords: Iterable[Any] = ()) -> Any:
    if entity_type == "campaign":
        return to_campaign_spec(row)
    if entity_type == "ad_group":
        return to_ad_group_spec(row, list(keywords))
    return to_ad_spec(row)


def local_spec(entity_type: str, row: Any, keywords: Iterable[Any] = ()) -> Any:
    return _spec(entity_type, row, keywords)


def _snapshot_fields(entity_type: str, record: Any) -> dict[str, Any]:
    """The compared fields of a stored snapshot (a spec's JSON dump), read without building
    the spec: a cycle reads tens of thousands."""
    snap = record.synced_snapshot
    fields: dict[str, Any] = {"name": snap.get("name"), "status": snap.get("status")}
    if entity_type == "campaign":
        fields["budget"] = snap.get("budget")
        fields["start_time"] = snap.get("start_time") if snap.get("budget_optimization") else None
        fields["end_time"] = snap.get("end_time")
    elif entity_type == "ad_group":
        strategy = snap.get("bid_strategy") or "automatic"
        fields["budget"] = snap.get("budget")
        fields["bid_strategy"] = strategy
        fields["bid_amount"] = (
            snap.get("bid_amount") if strategy in OUR_BID_STRATEGIES - {"automatic"} else None
        )
        fields["start_time"] = snap.get("start_time")
        fields["end_time"] = snap.get("end_time")
        targeting = snap.get("targeting") or {}
        for name in TARGETING_LISTS:
            fields[name] = targeting.get(name) or []
        live = [k for k in snap.get("keywords") or () if k.get("status", "active") == "active"]
        fields["keywords"] = [k["text"] for k in live if not k.get("negative")]
        fields["excluded_keywords"] = [k["text"] for k in live if k.get("negative")]
    else:
        fields["final_url"] = snap.get("final_url")
        fields["headline"] = snap.get("headline")
        fields["description"] = snap.get("description")
    return fields


def _columns(entity_type: str, row: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The local columns that take the platform's `values` (normalised, as compared)."""
    columns: dict[str, Any] = {}
    targeting: dict[str, Any] | None = None
    for name, value in values.items():
        if name == "budget":
            columns["budget_type"] = value["type"] if value else None
            columns["budget_amount"] = Decimal(str(value["amount"])) if value else None
            columns["currency"] = (row.currency or "USD") if value else None
        elif name == "status":
            if value not in LOCAL_STATUSES:
                raise EntityProblem(f"the platform's status {value!r} has no local equivalent")
            columns["status"] = value
        elif name == "bid_amount":
            columns["bid_amount"] = Decimal(str(value)) if value is not None else None
        elif name == "bid_strategy":
            if value not in OUR_BID_STRATEGIES:
                raise EntityProblem(f"the platform's bidding {value!r} has no local equivalent")
            columns["bid_strategy"] = value
        elif name in ("start_time", "end_time"):
            columns[name] = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
        elif name in TARGETING_LISTS:
            targeting = targeting if targeting is not None else dict(row.targeting or {})
            targeting[name] = list(value)
        elif name in ("keywords", "excluded_keywords"):
            continue  # keyword rows, written apart
        elif name == "headline" and value is not None and len(value) > HEADLINE_MAX:
            raise EntityProblem(f"the platform's headline is over {HEADLINE_MAX} characters")
        else:
            columns[name] = value
    if targeting is not None:
        columns["targeting"] = targeting
    return columns


def _new_base(
    entity_type: str, row: Any, snapshot: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """The snapshot with the platform's `values` in: what the platform has now."""
    snap = dict(snapshot)
    for name, value in values.items():
        if name == "budget":
            currency = (snap.get("budget") or {}).get("currency") or row.currency or "USD"
            snap["budget"] = (
                {"type": value["type"], "amount": str(value["amount"]), "currency": currency}
                if value
                else None
            )
        elif name == "bid_amount":
            snap["bid_amount"] = str(value) if value is not None else None
        elif name in TARGETING_LISTS:
            snap["targeting"] = {**(snap.get("targeting") or {}), name: list(value)}
        elif name in ("keywords", "excluded_keywords"):
            negative = name == "excluded_keywords"
            kept = [
                k for k in snap.get("keywords") or ()
                if bool(k.get("negative")) != negative or k.get("status", "active") != "active"
            ]  # fmt: skip
            snap["keywords"] = kept + [
                {"text": text, "negative": negative, "status": "active"} for text in value
            ]
        else:
            snap[name] = value
    return snap


def _integrity_reason(entity_type: str, exc: IntegrityError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "uq_" in text and "name" in text:
        label = entity_type.replace("_", " ")
        return (
            f"the platform renamed this {label} to a name another live {label} of its parent "
            "already has here"
        )
    return f"the platform's change cannot be stored here: {text.splitlines()[0]}"


def _change(
    entity_type: str, entity_id: Any, field: str, before: Any, after: Any
) -> dict[str, Any]:
    return {
        "entityType": entity_type,
        "entityId": str(entity_id),
        "field": field,
        "from": _jsonable(before),
        "to": _jsonable(after),
        "source": "platform",
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _as_loaded(entity_type: str, full: Any, loaded: Any) -> Any:
    """The full row, with the platform id the cycle read it by: a set's target other than the
    first has its own (its sync record), not the first target's mirrored in the column."""
    column = PLATFORM_ID_COLUMNS[entity_type]
    if getattr(full, column) == getattr(loaded, column):
        return full
    return SimpleNamespace(**{**full._mapping, column: getattr(loaded, column)})
