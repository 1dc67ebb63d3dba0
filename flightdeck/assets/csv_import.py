"""CSV imports (`csv_import`): one asset per row. The header names the columns — the seed's
field names: `asset_name`, `asset_type` (required), `title`, `description`, `headline_text`,
`ad_copy_text`, `cta_text`, `tags` (comma-separated), `external_asset_id`, and `media_url`
(alias `image_url`, `file_url`) for a file to download through the SSRF guard. A row without
an `external_asset_id` is named by its content, so importing the same file again adds nothing.
Bad rows are recorded as failed items with the reason; the others import.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from flightdeck.domain.asset_import import DiscoveredAsset
from flightdeck.domain.campaign_spaces import ASSET_TYPES, TEXT_ASSET_TYPES
from flightdeck.storage.names import has_control_characters

MAX_FIELD = 20_000
TEXT_COLUMNS = ("title", "description", "headline_text", "ad_copy_text", "cta_text")
URL_COLUMNS = ("media_url", "image_url", "file_url")
TEXT_OF = {
    "headline": "headline_text",
    "ad_copy": "ad_copy_text",
    "call_to_action": "cta_text",
    "description": "description",
}


class CsvRefused(ValueError):
    """The file as a whole is not an importable CSV."""


def csv_items(path: Path, *, max_rows: int) -> Iterator[DiscoveredAsset]:
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CsvRefused("the CSV cannot be read") from exc
    with handle:
        csv.field_size_limit(MAX_FIELD)
        reader = csv.DictReader(handle)
        try:
            header = [h.strip().lower() for h in reader.fieldnames or []]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvRefused("the file is not UTF-8 CSV") from exc
        if "asset_name" not in header or "asset_type" not in header:
            raise CsvRefused("the header must name at least asset_name and asset_type")
        reader.fieldnames = header
        line = 1
        try:
            for line, row in enumerate(reader, start=2):
                if line - 1 > max_rows:
                    raise CsvRefused(f"more than {max_rows:,} rows")
                yield _item(line, row)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvRefused(f"line {line}: not valid UTF-8 CSV ({exc})") from exc


def _item(line: int, row: dict[str, str | None]) -> DiscoveredAsset:
    values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
    key = f"row:{line}"
    asset_type = values.get("asset_type", "").lower()
    problem = _problem(values, asset_type)
    if problem:
        return DiscoveredAsset(
            item_key=key,
            asset_type="other",
            asset_name=f"line {line}",
            error=f"line {line}: {problem}",
        )
    url = next((values[c] for c in URL_COLUMNS if values.get(c)), None)
    fields = {c: values[c] for c in TEXT_COLUMNS if values.get(c)}
    tags = [t.strip() for t in values.get("tags", "").split(",") if t.strip()]
    external = values.get("external_asset_id") or "csv:" + _content_hash(asset_type, values, url)
    try:
        return DiscoveredAsset(
            item_key=key,
            asset_type=asset_type,  # type: ignore[arg-type]
            asset_name=values["asset_name"][:255],
            external_asset_id=external[:255],
            tags=tags[:50],
            media_url=url,
            platform_metadata={"source": "csv_import", "line": line},
            **fields,
        )
    except ValidationError as exc:
        message = exc.errors()[0].get("msg", "invalid")
        return DiscoveredAsset(
            item_key=key,
            asset_type="other",
            asset_name=f"line {line}",
            error=f"line {line}: {message}",
        )


def _problem(values: dict[str, str], asset_type: str) -> str | None:
    if not values.get("asset_name"):
        return "asset_name is empty"
    if asset_type not in ASSET_TYPES:
        return f"asset_type {asset_type!r} is not one of {', '.join(ASSET_TYPES)}"
    if any("\x00" in v for v in values.values()):
        return "NUL characters are not allowed"
    if has_control_characters(values["asset_name"]):
        return "asset_name has control characters"
    url = next((values[c] for c in URL_COLUMNS if values.get(c)), None)
    if asset_type in TEXT_ASSET_TYPES:
        if not values.get(TEXT_OF[asset_type]):
            return f"{TEXT_OF[asset_type]} is required for a {asset_type} row"
    elif not url:
        return f"media_url is required for a {asset_type} row"
    return None


def _content_hash(asset_type: str, values: dict[str, str], url: str | None) -> str:
    content = [asset_type, url or ""] + [values.get(c, "") for c in TEXT_COLUMNS]
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:40]


def parse_text(data: bytes, *, max_rows: int) -> list[DiscoveredAsset]:
    """For tests and small inputs: the items of CSV text held in memory."""
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as tmp:
        tmp.write(data)
    path = Path(tmp.name)
    try:
        return list(csv_items(path, max_rows=max_rows))
    finally:
        path.unlink(missing_ok=True)


__all__ = ["CsvRefused", "csv_items", "parse_text"]
