"""Structured logs that carry a request or job id (JSON in production) and never personal data."""

from __future__ import annotations

import contextvars
import json
import logging
import re

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("hub_request_id", default=None)

# Mobile numbers, ID numbers and WeChat openids are scrubbed from every message as a last line of defence.
_PERSONAL = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|\bo[A-Za-z0-9_-]{27}\b")


def scrub(text: str) -> str:
    """Replace anything that looks like a phone number, ID number or openid."""
    return _PERSONAL.sub("[redacted]", text)


class ContextFilter(logging.Filter):
    """Stamp every record with the current request or job id and scrub its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `request_id`; redact personal data from the rendered message."""
        record.request_id = request_id_var.get()
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render a record as JSON."""
        data = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            data["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Install the filter and the formatter on the root logger."""
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    fmt = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
