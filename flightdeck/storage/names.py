"""Names that came from a client (a multipart filename, a zip entry): kept for display only,
never used as a path. `display_filename` keeps the last path segment and drops control and
format characters; `has_control_characters` lets the API refuse them in names it stores as-is.
"""

from __future__ import annotations

import unicodedata

MAX_FILENAME = 255


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t" for ch in value)


def display_filename(raw: str | None) -> str | None:
    """`../../etc/passwd` → `passwd`; `a\\x00b.png` → `ab.png`; empty or dots → None."""
    if not raw:
        return None
    last = raw.replace("\\", "/").split("/")[-1]
    cleaned = "".join(ch for ch in last if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    cleaned = unicodedata.normalize("NFC", cleaned)
    if cleaned in ("", ".", ".."):
        return None
    return cleaned[:MAX_FILENAME]
