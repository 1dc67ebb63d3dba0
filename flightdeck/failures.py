"""Every failure type that workflows, activities and the API agree on, defined once.

Activities and workflows raise `ApplicationError`s whose `type` is a `Failure`; retry policies
list the non-retryable ones by these names; the API maps each to one HTTP status in its global
handler (`api/errors.py`). Nothing else spells a failure type as a string literal.

    Failure.PLATFORM_REJECTED    the platform refused our input or our permission (4xx): retrying
                                 the same call cannot help
    Failure.PLATFORM_UNAVAILABLE a 5xx, timeout or lost answer: retried with backoff
    Failure.RATE_LIMITED         a 429 (or Graph's throttling codes): retried after the server's
                                 delay, never counted as a failure
    Failure.REAUTH_REQUIRED      the account's grant is dead: only a person reconnecting helps
    Failure.NOT_FOUND            a row the run works on is gone
    Failure.INVALID_STATE        the work cannot proceed as things stand (e.g. a parent is not
                                 on the platform yet)
    Failure.PUBLISH_FAILED       a publish run ended failed (after recording and compensating)
    Failure.DEADLINE_EXCEEDED    a business deadline (a timer in the workflow) passed
    Failure.STALE                an update's validator: the request no longer matches the state
    Failure.INVALID_REQUEST      an update's validator: the request is malformed
    Failure.FORBIDDEN            the caller's role may not do this
    Failure.BUG                  an unexpected exception inside a workflow, recorded and ended
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ApplicationErrorCategory,
    ChildWorkflowError,
)


class Failure(StrEnum):
    PLATFORM_REJECTED = "NonRetryablePlatformError"
    PLATFORM_UNAVAILABLE = "RetryablePlatformError"
    RATE_LIMITED = "RateLimited"
    REAUTH_REQUIRED = "AccountReauthRequired"
    NOT_FOUND = "NotFound"
    INVALID_STATE = "InvalidState"
    PUBLISH_FAILED = "PublishFailed"
    SYNC_FAILED = "SyncFailed"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    STALE = "StaleRequest"
    INVALID_REQUEST = "InvalidRequest"
    FORBIDDEN = "Forbidden"
    DATABASE_UNAVAILABLE = "DatabaseUnavailable"  # Postgres unreachable: retried
    BUG = "UnexpectedError"


# What a retry can never fix: retry policies list these as non-retryable.
NON_RETRYABLE: list[str] = [
    Failure.PLATFORM_REJECTED,
    Failure.REAUTH_REQUIRED,
    Failure.NOT_FOUND,
    Failure.INVALID_STATE,
    Failure.DEADLINE_EXCEEDED,
    Failure.FORBIDDEN,
]


def failure(
    kind: Failure,
    message: str,
    *details: Any,
    non_retryable: bool | None = None,
    next_retry_delay: timedelta | None = None,
    benign: bool = False,
) -> ApplicationError:
    """An `ApplicationError` of one of our types (non-retryable unless the type is retryable)."""
    category = ApplicationErrorCategory.BENIGN if benign else ApplicationErrorCategory.UNSPECIFIED
    return ApplicationError(
        message,
        *details,
        type=str(kind),
        non_retryable=kind in NON_RETRYABLE if non_retryable is None else non_retryable,
        next_retry_delay=next_retry_delay,
        category=category,
    )


# Errors that only wrap the failure that matters (its `.cause`).
_WRAPPERS = (ActivityError, ChildWorkflowError)
_CLIENT_WRAPPERS = frozenset({"WorkflowFailureError", "WorkflowUpdateFailedError"})


def root_cause(err: BaseException) -> BaseException:
    """The failure an activity, child-workflow, workflow or update error wraps: the outermost
    one that is not a mere wrapper (an `ApplicationError` keeps its own type even when it was
    raised `from` a lower-level exception)."""
    for _ in range(32):
        wrapper = isinstance(err, _WRAPPERS) or type(err).__name__ in _CLIENT_WRAPPERS
        cause = getattr(err, "cause", None)
        if not wrapper or not isinstance(cause, BaseException):
            break
        err = cause
    return err


def failure_type(err: BaseException) -> str | None:
    """The `Failure` type at the root of `err`, if it is an `ApplicationError`."""
    cause = root_cause(err)
    return cause.type if isinstance(cause, ApplicationError) else None


def failure_message(err: BaseException) -> str:
    """The root cause's own message (without Temporal's wrapping text)."""
    cause = root_cause(err)
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause) or type(cause).__name__


def failure_details(err: BaseException) -> dict[str, Any]:
    """The first details entry of the root `ApplicationError`, when it is a dict."""
    cause = root_cause(err)
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        return dict(cause.details[0])
    return {}
