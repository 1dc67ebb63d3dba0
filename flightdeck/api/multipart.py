"""Reading a multipart upload as it arrives: the file part goes straight into an `Intake`
(staged on disk, hashed, cut at the size limit) and the text fields are kept, each capped.
Nothing spools the whole request first (Starlette's `request.form()` would, with no limit on
file parts), so an oversized upload is refused at the first byte past the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from flightdeck.storage.intake import EmptyFile, Intake, StagedFile, TooLarge

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 50
FORM_OVERHEAD = 1024 * 1024  # headers and text fields around the file


class FormError(Exception):
    """The upload is malformed or too large; names the offending field."""

    def __init__(self, status_code: int, field_name: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.field = field_name
        self.message = message


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: StagedFile | None = None
    filename: str | None = None


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    name: str = ""
    value: bytearray = field(default_factory=bytearray)
    is_file: bool = False


class _Reader:
    def __init__(
        self, new_intake: Callable[[], Intake], allowed: Collection[str], file_field: str
    ) -> None:
        self.form = UploadForm()
        self._new_intake = new_intake
        self._allowed = allowed
        self._file_field = file_field
        self._part = _Part()
        self.intake: Intake | None = None

    def on_part_begin(self) -> None:
        self._part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._part.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._part.header_value += data[start:end]

    def on_header_end(self) -> None:
        part = self._part
        part.headers[bytes(part.header_name).lower()] = bytes(part.header_value)
        part.header_name, part.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        part = self._part
        _, options = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        if part.name == self._file_field:
            if self.intake is not None:
                raise FormError(422, self._file_field, "only one file per upload")
            part.is_file = True
            raw = options.get(b"filename")
            self.form.filename = raw.decode("utf-8", "replace") if raw is not None else None
            self.intake = self._new_intake()
        elif part.name not in self._allowed:
            raise FormError(422, part.name or "(unnamed)", "unknown form field")
        elif len(self.form.fields) >= MAX_FIELDS or part.name in self.form.fields:
            raise FormError(422, part.name, "repeated or too many form fields")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._part
        if part.is_file:
            assert self.intake is not None
            try:
                self.intake.write(data[start:end])
            except TooLarge as exc:
                raise FormError(413, self._file_field, str(exc)) from None
            return
        part.value += data[start:end]
        if len(part.value) > MAX_FIELD_BYTES:
            raise FormError(422, part.name, f"longer than {MAX_FIELD_BYTES:,} bytes")

    def on_part_end(self) -> None:
        part = self._part
        if part.is_file:
            assert self.intake is not None
            try:
                self.form.file = self.intake.finish()
            except EmptyFile as exc:
                raise FormError(422, self._file_field, str(exc)) from None
            return
        try:
            self.form.fields[part.name] = part.value.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError(422, part.name, "is not UTF-8 text") from None


async def read_upload_form(
    request: Request,
    new_intake: Callable[[], Intake],
    *,
    allowed_fields: Collection[str],
    max_file_bytes: int,
    file_field: str = "file",
) -> UploadForm:
    """The form's fields and its (staged) file. FormError for a bad or oversized upload; the
    caller owns `form.file` and must discard it if it does not keep it."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/x-www-form-urlencoded":
        return await _url_encoded(request, allowed_fields)  # text fields only (copy assets)
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise FormError(415, "Content-Type", "must be multipart/form-data with a boundary")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_file_bytes + FORM_OVERHEAD:
        raise FormError(413, file_field, f"the file is larger than the {max_file_bytes:,} allowed")
    reader = _Reader(new_intake, allowed_fields, file_field)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": reader.on_part_begin,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
        },
        max_size=max_file_bytes + FORM_OVERHEAD,
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (FormError, ClientDisconnect):
        _drop(reader)
        raise
    except Exception as exc:  # python-multipart's parse errors: a malformed body
        _drop(reader)
        raise FormError(400, "body", "malformed multipart body") from exc
    if reader.intake is not None and reader.form.file is None:
        _drop(reader)
        raise FormError(400, file_field, "the file part is incomplete")
    return reader.form


async def _url_encoded(request: Request, allowed: Collection[str]) -> UploadForm:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FIELD_BYTES * 4:
            raise FormError(
                413, "body", f"a form without a file is at most {MAX_FIELD_BYTES * 4:,} bytes"
            )
    form = UploadForm()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise FormError(422, "body", "is not UTF-8 text") from None
    for name, value in pairs:
        if name not in allowed:
            raise FormError(422, name or "(unnamed)", "unknown form field")
        if name in form.fields or len(form.fields) >= MAX_FIELDS:
            raise FormError(422, name, "repeated or too many form fields")
        form.fields[name] = value
    return form


def _drop(reader: _Reader) -> None:
    if reader.intake is not None:
        reader.intake.abort()
    if reader.form.file is not None:
        reader.form.file.discard()
