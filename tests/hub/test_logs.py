"""Log lines carry the request id and never a phone number, ID number or openid."""

from __future__ import annotations

import json
import logging

from hub.logs import ContextFilter, JsonFormatter, request_id_var


def test_json_lines_carry_the_request_id_and_no_personal_data() -> None:
    record = logging.LogRecord("hub.test", logging.INFO, __file__, 1,
                               "caller %s, id %s, openid %s", ("13812345678", "44060219900101123X",
                                                               "oDemoAbCdEfGhIjKlMnOpQrStUvW"), None)
    token = request_id_var.set("req-7")
    try:
        assert ContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-7"
    assert "13812345678" not in line["msg"] and "44060219900101123X" not in line["msg"]
    assert "oDemoAbCdEfGhIjKlMnOpQrStUvW" not in line["msg"] and line["msg"].count("[redacted]") == 3
