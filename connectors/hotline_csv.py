"""The 12345 platform's CSV export (``hub import hotline FILE``): Chinese headers, aliases, bad rows by line.

Encoding is detected (UTF-8 with BOM, plain UTF-8, else GB18030). Headers are matched through the alias table
below (the doc's scraper mapping 诉求内容/投诉内容/问题描述/留言内容 → content, 诉求时间/投诉时间/提交时间 → time,
plus the names of ``fixtures/hotline12345/workorders_export.csv``). A row that cannot become a case is
reported as ``(line_no, reason)`` (the physical line where the row starts, the header being line 1) and
skipped; every other row is parsed. Reasons name columns, never cell values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors._common import (
    CsvResult,
    RowParser,
    kind_from_label,
    make_title,
    parse_csv_export,
    parse_local_time,
    str_or_none,
    urgency_from_label,
    usable_phone,
)
from connectors.base import CaseDraft, CitizenDraft
from connectors.errors import BadPayload

CHANNEL = "HOTLINE"

# canonical field → accepted header names, first one is the name used in messages
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "order_num": ("工单编号", "工单号", "受理编号", "编号"),
    "call_time": ("来电时间", "诉求时间", "投诉时间", "提交时间", "受理时间", "登记时间"),
    "content": ("诉求内容", "投诉内容", "问题描述", "留言内容", "主要内容", "来电内容"),
    "title": ("工单标题", "诉求标题", "诉求主题", "标题"),
    "phone": ("来电号码", "联系电话", "联系方式", "手机号码"),
    "name": ("来电人姓名", "来电人", "诉求人", "联系人", "姓名"),
    "kind": ("诉求类型", "来电类别", "诉求类别", "诉求分类"),
    "urgency": ("紧急程度", "缓急程度"),
    "category": ("问题分类", "问题分类名称", "事项分类"),
    "address": ("事发地址", "事发地点", "事发地", "地址"),
    "region": ("所属区域", "所属区县", "区县", "行政区划"),
}
REQUIRED = ("order_num", "call_time", "content")


def _row_parser(header: Sequence[str]) -> RowParser:
    columns: dict[str, int] = {}
    for key, aliases in HEADER_ALIASES.items():
        found = next((alias for alias in aliases if alias in header), None)
        if found is not None:
            columns[key] = header.index(found)
    missing = [HEADER_ALIASES[key][0] for key in REQUIRED if key not in columns]
    if missing:
        raise BadPayload(f"missing column {'、'.join(missing)}")

    def parse_row(row: Sequence[str]) -> CaseDraft:
        def cell(key: str) -> str | None:
            index = columns.get(key)
            return str_or_none(row[index]) if index is not None else None

        order_num = cell("order_num")
        if order_num is None:
            raise BadPayload(f"empty {header[columns['order_num']]}")
        raw_time = cell("call_time")
        if raw_time is None:
            raise BadPayload(f"empty {header[columns['call_time']]}")
        received_at = parse_local_time(raw_time, header[columns["call_time"]])
        content = cell("content") or cell("title")
        if content is None:
            raise BadPayload(f"empty {header[columns['content']]}")
        return CaseDraft(
            channel=CHANNEL,
            external_id=order_num,
            title=cell("title") or make_title(content),
            content=content,
            received_at=received_at,
            citizen=CitizenDraft(name=cell("name"), phone=usable_phone(cell("phone"))),
            kind=kind_from_label(cell("kind")),
            urgency=urgency_from_label(cell("urgency")),
            address=cell("address"),
            region=cell("region"),
            category_hint=cell("category"),
            reply_to={"orderNum": order_num},
            raw=dict(zip(header, row, strict=True)),
        )

    return parse_row


def parse_csv(data: bytes) -> CsvResult:
    """Parse a work-order export; bad rows are reported by line number and skipped."""
    return parse_csv_export(data, _row_parser, "工单编号")
