"""Expected failures, each with a stable code that the API and the CLI show as it is.

Messages never carry personal data: they name cases by number and departments by code.
"""

from __future__ import annotations


class HubError(Exception):
    """A deliberate, user-facing failure; nothing was changed."""

    code = "HUB_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HubError):
    code = "NOT_FOUND"


class NotAllowed(HubError):
    code = "NOT_ALLOWED"


class IllegalTransition(HubError):
    code = "ILLEGAL_TRANSITION"


class ValidationFailed(HubError):
    code = "VALIDATION_FAILED"


class UnknownDepartment(ValidationFailed):
    code = "UNKNOWN_DEPARTMENT"


class MissingReason(ValidationFailed):
    code = "MISSING_REASON"


class ReturnWindowClosed(IllegalTransition):
    code = "RETURN_WINDOW_CLOSED"


class ExtensionTooLong(ValidationFailed):
    code = "EXTENSION_TOO_LONG"


class SettingsError(HubError):
    code = "BAD_SETTING"
