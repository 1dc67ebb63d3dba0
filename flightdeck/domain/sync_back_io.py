"""Inputs and outputs of the sync-back and conflict workflows (seed 002 §6). Only ids, counts
and field values travel through history; tokens never do."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Resolution = Literal["use_local", "use_platform"]
RESOLUTIONS: tuple[str, ...] = ("use_local", "use_platform")
ConflictEntityType = Literal["campaign", "ad_group", "ad"]


class SyncBackInput(BaseModel):
    platform: str = "reddit"
    trigger: str = "schedule"
    tenant_id: str | None = None  # a manual run covers one tenant; the schedule covers all
    escalate_after_seconds: float = 86_400.0
    max_delete_share: float = 0.2
    delete_hold_minimum: int = 10
    read_task_queue: str = "reddit-read"
    write_task_queue: str = "reddit"
    # The first retry delay of an account's read (then doubling): settings'
    # `sync_retry_initial_seconds`. Runs started before this field existed keep 1 s.
    read_retry_initial_seconds: float = 1.0


class AccountToPoll(BaseModel):
    tenant_id: str
    ad_account_id: str


class AccountList(BaseModel):
    accounts: list[AccountToPoll] = Field(default_factory=list)


class SyncBackAccountInput(BaseModel):
    tenant_id: str
    ad_account_id: str
    platform: str = "reddit"
    cycle_id: str
    trigger: str = "schedule"
    max_delete_share: float = 0.2
    delete_hold_minimum: int = 10


class ConflictRef(BaseModel):
    conflict_id: str
    entity_type: ConflictEntityType
    entity_id: str


class SyncBackAccountResult(BaseModel):
    run_id: str
    api_calls: int = 0
    entities_checked: int = 0
    rows_changed: int = 0
    conflicts: list[ConflictRef] = Field(default_factory=list)
    deleted_on_platform: int = 0
    deletions_held: int = 0
    entity_problems: int = 0
    statements: int = 0  # SQL statements of the load, compare and write
    poll_seconds: float = 0.0  # reading the platform
    compare_seconds: float = 0.0  # loading, comparing and writing locally


class StartConflictsInput(BaseModel):
    """The conflicts one account's cycle opened, whose ConflictWorkflows to start."""

    tenant_id: str
    platform: str = "reddit"
    conflicts: list[ConflictRef] = Field(default_factory=list)
    escalate_after_seconds: float = 86_400.0
    write_task_queue: str = "reddit"


class SyncBackResult(BaseModel):
    accounts: int = 0
    api_calls: int = 0
    rows_changed: int = 0
    conflicts_opened: int = 0
    deleted_on_platform: int = 0
    deletions_held: int = 0
    entity_problems: int = 0
    statements: int = 0
    failed_accounts: list[str] = Field(default_factory=list)
    poll_seconds: float = 0.0
    compare_seconds: float = 0.0
    conflict_start_seconds: float = 0.0  # starting the conflicts' workflows (workflow time)


class ConflictInput(BaseModel):
    tenant_id: str
    conflict_id: str
    entity_type: ConflictEntityType
    entity_id: str
    escalate_after_seconds: float = 86_400.0
    write_task_queue: str = "reddit"

    @classmethod
    def of(
        cls, tenant_id: str, ref: ConflictRef, escalate_after_seconds: float, write_task_queue: str
    ) -> ConflictInput:
        """The conflict workflow's input for one conflict a sync-back cycle opened."""
        return cls(
            tenant_id=tenant_id,
            conflict_id=ref.conflict_id,
            entity_type=ref.entity_type,
            entity_id=ref.entity_id,
            escalate_after_seconds=escalate_after_seconds,
            write_task_queue=write_task_queue,
        )

    @property
    def summary(self) -> str:
        """The run's static summary in the Web UI."""
        return f"Conflict on {self.entity_type} {self.entity_id}: waiting for a person"


class ResolveConflict(BaseModel):
    conflict_id: str
    resolution: str


class ApplyResolutionInput(BaseModel):
    tenant_id: str
    conflict_id: str
    resolution: Resolution


class ResolutionResult(BaseModel):
    conflict_id: str
    resolution: Resolution
    entity_type: str
    entity_id: str
    applied: dict[str, Any] = Field(default_factory=dict)  # field -> the value now on both sides
    platform_fields_sent: list[str] = Field(default_factory=list)


class EscalateInput(BaseModel):
    tenant_id: str
    conflict_id: str
    waited_seconds: float


class ConflictState(BaseModel):
    conflict_id: str
    entity_type: str
    entity_id: str
    status: Literal["open", "resolving", "resolved"] = "open"
    escalated: bool = False
    resolution: Resolution | None = None
    result: ResolutionResult | None = None  # once resolved
    error: str | None = None  # the last resolution that failed, and why
