"""What every platform client shares: one httpx client, closed by `aclose()` or `async with`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx


class HttpClientOwner:
    """Mixin for clients that own `self._http`; subclasses build it in their `__init__`."""

    _http: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
