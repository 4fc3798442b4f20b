"""Replies written in a unit of work, remembered so their delivery is enqueued after its commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

NEW_REPLIES_KEY = "hub.new_replies"


def note_new_reply(session: AsyncSession, reply_id: int) -> None:
    """Remember a reply queued for delivery in this session."""
    session.info.setdefault(NEW_REPLIES_KEY, []).append(reply_id)


def take_new_replies(session: AsyncSession) -> list[int]:
    """The replies this unit of work queued, once."""
    return list(session.info.pop(NEW_REPLIES_KEY, []))
