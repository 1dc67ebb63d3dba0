"""Translate classified platform errors (platforms/errors.py) into Temporal activity failures."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from flightdeck.accounts import ReauthRequired
from flightdeck.failures import Failure, failure
from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
)


def to_application_error(exc: PlatformError) -> ApplicationError:
    """Rate limits retry after the server's delay; validation/permission errors never retry."""
    details = {
        "platform": exc.platform,
        "statusCode": exc.status_code,
        "code": exc.code,
        "subcode": exc.subcode,
        "message": exc.message,
    }
    if isinstance(exc, RateLimitedError):
        delay = timedelta(seconds=exc.retry_after) if exc.retry_after else None
        # Expected under load and retried after the server's delay: BENIGN keeps it out of
        # the error logs and failure metrics.
        return failure(Failure.RATE_LIMITED, str(exc), details, next_retry_delay=delay, benign=True)
    if isinstance(exc, ReauthRequired):
        return failure(Failure.REAUTH_REQUIRED, str(exc), details)
    if isinstance(exc, NonRetryableError | AuthExpiredError):
        return failure(Failure.PLATFORM_REJECTED, str(exc), details)
    return failure(Failure.PLATFORM_UNAVAILABLE, str(exc), details)


def at_step(err: ApplicationError, step: str) -> ApplicationError:
    """`err` from one object of a batch activity, naming that object's step (the details'
    `step`, which the workflow records as the failed step, and the message), its type,
    retryability and delay kept."""
    details = dict(err.details[0]) if err.details and isinstance(err.details[0], dict) else {}
    details["step"] = step
    return ApplicationError(
        f"{step}: {err.message}",
        details,
        type=err.type,
        non_retryable=err.non_retryable,
        next_retry_delay=err.next_retry_delay,
        category=err.category,
    )


def worst(errors: list[BaseException]) -> BaseException:
    """The error a batch activity fails with when some of its objects failed: the first
    refusal (non-retryable: the run stops there), else the first unexpected error, else — all
    retryable — the one asking for the longest wait (a rate limit's delay)."""
    app = [e for e in errors if isinstance(e, ApplicationError)]
    refused = [e for e in app if e.non_retryable]
    if refused:
        return refused[0]
    unexpected = [e for e in errors if not isinstance(e, ApplicationError)]
    if unexpected:
        return unexpected[0]
    return max(app, key=lambda e: e.next_retry_delay or timedelta(0))
