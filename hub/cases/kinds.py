"""Guessing a request's kind from its words when the channel does not say it."""

from __future__ import annotations

from hub.enums import CaseKind

_CUES: tuple[tuple[CaseKind, tuple[str, ...]], ...] = (
    (CaseKind.PRAISE, ("表扬", "感谢", "点赞", "锦旗")),
    (CaseKind.REPORT, ("举报",)),
    (CaseKind.COMPLAINT, ("投诉", "扰民", "乱收费", "不作为")),
    (CaseKind.SUGGESTION, ("建议", "希望增设", "能否增加")),
    (CaseKind.CONSULTATION, ("咨询", "请问", "如何办理", "怎么办理", "是否可以")),
    (CaseKind.HELP, ("求助", "请求", "帮忙", "恳请", "维修")),
)


def guess_kind(title: str, content: str) -> CaseKind:
    """The first kind whose cue words appear in the title, then in the content; OTHER if none."""
    for text in (title, content):
        for kind, cues in _CUES:
            if any(cue in text for cue in cues):
                return kind
    return CaseKind.OTHER
