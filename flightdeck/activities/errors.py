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
