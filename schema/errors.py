"""Errors clients see are deliberate and carry a stable `code`; anything else is masked."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from hub.errors import HubError
from hub.logs import request_id_var

log = logging.getLogger("hub.api")
T = TypeVar("T")

UNAUTHENTICATED = "UNAUTHENTICATED"


class ClientError(GraphQLError):
    """An expected failure shown to the client as it is."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


async def guarded(call: Awaitable[T]) -> T:
    """Await a service call, turning the hub's expected errors into client errors."""
    try:
        return await call
    except HubError as exc:
        raise ClientError(exc.message, exc.code) from None


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # validation and parse errors are about the query itself
    if isinstance(original, ClientError):
        return False
    log.error("unexpected error in %s (request %s)", error.path, request_id_var.get(), exc_info=original)
    return True


def mask_errors() -> MaskErrors:
    """The extension that replaces unexpected errors with a generic message and code."""
    return MaskErrors(should_mask_error=_should_mask, error_message="Internal error; see the server log")
