"""Translate classified platform errors (platforms/errors.py) into Temporal activity failures."""

from __future__ import annotations

from datetime import timedelta

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
)

NON_RETRYABLE_TYPE = "NonRetryablePlatformError"


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
        return ApplicationError(
            str(exc),
            details,
            type="RateLimited",
            next_retry_delay=delay,
            category=ApplicationErrorCategory.BENIGN,
        )
    if isinstance(exc, NonRetryableError | AuthExpiredError):
        return ApplicationError(str(exc), details, type=NON_RETRYABLE_TYPE, non_retryable=True)
    return ApplicationError(str(exc), details, type="RetryablePlatformError")
