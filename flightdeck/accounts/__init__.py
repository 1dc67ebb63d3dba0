"""Connected ad-platform accounts: the credential store that the API and the activities share
(`accounts/reddit.py` for Reddit). Errors, for every platform:

    AccountError                 a connect or credential problem the caller can name
     ├── AccountNotFound         no such account for this tenant
     └── ConnectError            the OAuth callback cannot complete (`error` says why)
    ReauthRequired               (a platforms.errors.AuthExpiredError) the account's grant is
                                 dead or was disconnected: only a new consent fixes it, so
                                 activities fail it as non-retryable

None of them ever shows a token, code, verifier or key.
"""

from __future__ import annotations

from flightdeck.platforms.errors import AuthExpiredError


class AccountError(Exception):
    """A connect or credential problem, not a platform failure."""


class AccountNotFound(AccountError):
    def __init__(self, account_id: object) -> None:
        super().__init__(f"ad account {account_id} not found")
        self.account_id = account_id


class ConnectError(AccountError):
    """The OAuth callback cannot complete; `error` is a short machine-readable reason
    (`invalid_state`, `access_denied`, `invalid_grant`, `no_ad_account` …)."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.detail = detail


class ReauthRequired(AuthExpiredError):
    """The account cannot get a working token any more (refresh token refused, or the account
    was disconnected). Retrying cannot help; someone must connect the account again."""

    def __init__(self, platform: str, account: str, reason: str) -> None:
        super().__init__(
            f"{platform} ad account {account} must be reconnected ({reason}); connect it again "
            f"through GET /api/v1/ad-accounts/{platform}/connect",
            platform=platform,
            details={"account": account, "reason": reason},
        )
        self.account = account
        self.reason = reason


__all__ = ["AccountError", "AccountNotFound", "ConnectError", "ReauthRequired"]
