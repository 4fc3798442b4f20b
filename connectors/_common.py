"""Helpers every channel module shares: China time, label → kind/urgency, text clean-up, cursors, HTTP."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.base import CaseDraft
from connectors.errors import BadPayload, ChannelError, Transient, classify_status

CST = dt.timezone(dt.timedelta(hours=8), "GMT+8")  # China has no DST: a fixed offset is exact

_ISO_LOCAL = re.compile(r"\d{4}-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d)?)?")
_LOCAL_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
)


def parse_local_time(value: str, field: str = "time") -> dt.datetime:
    """A GMT+8 wall-clock time (``2020/1/6 12:09:38``, ``2017-06-08 17:31:20``, a date) as an aware datetime."""
    text = value.strip()
    if _ISO_LOCAL.fullmatch(text):  # the common shape, parsed in C; anything else takes the formats below
        try:
            return dt.datetime.fromisoformat(text).replace(tzinfo=CST)
        except ValueError:
            pass
    for fmt in _LOCAL_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=CST)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadPayload(f"unparseable {field}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CST)


def format_local_time(moment: dt.datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in GMT+8, the format Chinese platform APIs take."""
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def from_epoch(seconds: int | float | str, field: str = "time") -> dt.datetime:
    """Unix seconds as an aware GMT+8 datetime."""
    try:
        return dt.datetime.fromtimestamp(float(seconds), CST)
    except (TypeError, ValueError, OverflowError):
        raise BadPayload(f"unparseable {field}") from None


@dataclass(frozen=True)
class CsvResult:
    """What an export yielded: the drafts in file order, and the rows skipped with their reason."""

    drafts: Sequence[CaseDraft]
    errors: list[tuple[int, str]] = field(default_factory=list)


RowParser = Callable[[Sequence[str]], CaseDraft]


def parse_csv_export(data: bytes, make_row_parser: Callable[[Sequence[str]], RowParser], id_label: str) -> CsvResult:
    """Decode an export, read its header, parse each row; a bad row becomes ``(line_no, reason)``.

    ``make_row_parser`` gets the header and returns the row parser (raising BadPayload for a header that
    lacks a required column). Line numbers are physical lines where a row starts, the header being line 1.
    """
    try:
        text = decode_text(data)
    except BadPayload as exc:
        return CsvResult(drafts=[], errors=[(1, exc.message)])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lstrip("\ufeff") for cell in next(reader)]
        parse_row = make_row_parser(header)
    except StopIteration:
        return CsvResult(drafts=[], errors=[(1, "empty file")])
    except csv.Error:
        return CsvResult(drafts=[], errors=[(1, "unreadable header row")])
    except BadPayload as exc:
        return CsvResult(drafts=[], errors=[(1, exc.message)])

    drafts: list[CaseDraft] = []
    errors: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    line_no = reader.line_num
    while True:
        start = line_no + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            errors.append((start, "malformed CSV quoting"))
            break  # the reader cannot resynchronise after a broken quote
        line_no = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append((start, f"expected {len(header)} columns, found {len(row)}"))
            continue
        try:
            draft = parse_row(row)
        except BadPayload as exc:
            errors.append((start, exc.message))
            continue
        if draft.external_id in first_line:
            errors.append((start, f"duplicate {id_label} (first on line {first_line[draft.external_id]})"))
            continue
        first_line[draft.external_id] = start
        drafts.append(draft)
    return CsvResult(drafts=drafts, errors=errors)


# --- Vocabulary --------------------------------------------------------------------------------------------

_KIND_EXACT = {
    "咨询": "CONSULTATION",
    "求助": "HELP",
    "投诉": "COMPLAINT",
    "举报": "REPORT",
    "建议": "SUGGESTION",
    "表扬": "PRAISE",
    "感谢": "PRAISE",
    "其他": "OTHER",
    "其它": "OTHER",
}
# order matters: "投诉举报" is a complaint first, "意见建议" a suggestion
_KIND_CONTAINS = (("投诉", "COMPLAINT"), ("举报", "REPORT"), ("求助", "HELP"), ("咨询", "CONSULTATION"),
                  ("建议", "SUGGESTION"), ("表扬", "PRAISE"), ("感谢", "PRAISE"))


def kind_from_label(label: str | None) -> str | None:
    """诉求类型 → CaseKind value (咨询/求助/投诉/举报/建议/表扬·感谢, anything else OTHER, blank None)."""
    text = (label or "").strip()
    if not text:
        return None
    if text in _KIND_EXACT:
        return _KIND_EXACT[text]
    for needle, kind in _KIND_CONTAINS:
        if needle in text:
            return kind
    return "OTHER"


def urgency_from_label(label: str | None) -> str | None:
    """紧急程度 → URGENT for 紧急/特急, NORMAL for anything else, None when blank."""
    text = (label or "").strip()
    if not text:
        return None
    return "URGENT" if text in {"紧急", "特急", "特别紧急", "加急"} else "NORMAL"


# --- Text --------------------------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n{2,}")


def normalise_whitespace(text: str) -> str:
    """Strip the scraped indentation: each line trimmed, blank runs collapsed, ends stripped."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_LINE.sub("\n", "\n".join(lines)).strip()


def make_title(text: str, limit: int = 30) -> str:
    """A title from free text: its first line, cut to ``limit`` characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


def decode_text(data: bytes) -> str:
    """Bytes of a Chinese export as text: UTF-8 with BOM, plain UTF-8, else GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadPayload("file is neither UTF-8 nor GB18030") from None


def str_or_none(value: Any) -> str | None:
    """A stripped string, or None for missing/blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def as_mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty mapping."""
    return value if isinstance(value, Mapping) else {}


def usable_phone(value: Any) -> str | None:
    """A phone number usable to link a citizen (masked numbers like 138****5678 are dropped)."""
    text = str_or_none(value)
    if text is None or "*" in text:
        return None
    return text


# --- Cursors -----------------------------------------------------------------------------------------------


def load_cursor(cursor: str | None, channel: str) -> dict[str, Any]:
    """A channel's cursor, stored by the hub as an opaque JSON string."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        raise BadPayload(f"{channel}: stored cursor is not valid JSON") from None
    if not isinstance(state, dict):
        raise BadPayload(f"{channel}: stored cursor is not a JSON object")
    return state


def dump_cursor(state: Mapping[str, Any]) -> str:
    """The cursor string for a state mapping (stable key order)."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# --- HTTP --------------------------------------------------------------------------------------------------


async def send(
    http: httpx.AsyncClient, method: str, url: str, *, channel: str, is_write: bool = False, **kwargs: Any
) -> httpx.Response:
    """One HTTP call with transport failures classified (URLs and tokens never reach the message)."""
    try:
        return await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        # a write that timed out may still have arrived
        raise Transient(f"{channel}: request timed out", maybe_delivered=is_write) from None
    except httpx.TransportError as exc:
        raise Transient(f"{channel}: connection failed ({type(exc).__name__})") from None


def json_body(response: httpx.Response, channel: str, *, is_write: bool = False) -> Any:
    """The JSON of a response; an unparseable body is a status error or a transient glitch."""
    try:
        return response.json()
    except ValueError:
        if response.status_code >= 300:
            raise http_error(response, channel, is_write=is_write) from None
        raise Transient(f"{channel}: unparseable response body", status=response.status_code,
                        maybe_delivered=is_write) from None


def http_error(response: httpx.Response, channel: str, *, is_write: bool = False) -> ChannelError:
    """The error for a non-2xx response that carries no channel error code."""
    error = classify_status(channel, response.status_code, response.headers.get("retry-after"))
    error.maybe_delivered = is_write and response.status_code >= 500
    return error
