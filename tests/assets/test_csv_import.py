"""CSV imports: one item per row, bad rows named by line, re-imports recognised by content."""

from __future__ import annotations

import pytest

from flightdeck.assets.csv_import import CsvRefused, parse_text


def test_rows_become_items() -> None:
    items = parse_text(
        b"\xef\xbb\xbfAsset_Name,asset_type,headline_text,tags,media_url,external_asset_id\n"
        b'Hook,headline,Fly for less,"a, b",,\n'
        b"Banner,image,,,https://cdn.example.com/b.png,ext-9\n"
        b"Bad,hologram,,,,\n"
        b"NoText,headline,,,,\n"
        b"NoFile,image,,,,\n",
        max_rows=100,
    )
    hook, banner, bad, no_text, no_file = items
    assert (hook.asset_type, hook.headline_text, hook.tags) == (
        "headline",
        "Fly for less",
        ["a", "b"],
    )
    assert hook.external_asset_id and hook.external_asset_id.startswith("csv:")
    assert (banner.media_url, banner.external_asset_id) == (
        "https://cdn.example.com/b.png",
        "ext-9",
    )
    assert bad.error and "line 4" in bad.error and "hologram" in bad.error
    assert no_text.error and "headline_text" in no_text.error
    assert no_file.error and "media_url" in no_file.error


def test_the_same_row_gets_the_same_identity() -> None:
    row = b"asset_name,asset_type,ad_copy_text\nA,ad_copy,Same words\n"
    first = parse_text(row, max_rows=10)[0].external_asset_id
    assert first == parse_text(row, max_rows=10)[0].external_asset_id
    other = parse_text(row.replace(b"Same", b"Other"), max_rows=10)[0].external_asset_id
    assert other != first


@pytest.mark.parametrize(
    "data",
    [
        b"name,type\nx,y\n",  # required columns missing
        b"\xff\xfe\x00garbage",
        b"asset_name,asset_type\n" + b"x,headline\n" * 11,  # too many rows
    ],
)
def test_refused_files(data: bytes) -> None:
    with pytest.raises(CsvRefused):
        parse_text(data, max_rows=10)
