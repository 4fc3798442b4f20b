"""The faults a simulation plays on the fake channels for a while (then they recover).

Reads and the idempotent reply APIs (hotline, website) get everything: 500s, 429 with Retry-After, garbage bodies,
the channel's rate-limit code and expired tokens. WeChat's and Weibo's reply APIs take no idempotency key, so a
5xx after sending leaves the outcome unknown and the hub rightly refuses to resend blindly (the centre checks
first); there they only get refusals made before anything is sent: rate limits and expired tokens.
"""

from __future__ import annotations

import random

from connectors.fakes import FaultKind
from hub.simulate.channels import FakeSet

K = FaultKind
SEND = "/cgi-bin/message/custom/send"
ANY = ((K.SERVER_ERROR, None), (K.TOO_MANY_REQUESTS, None), (K.GARBAGE, None), (K.RATE_LIMIT_CODE, None),
       (K.EXPIRED_TOKEN, None))
PLAN: dict[str, tuple[tuple[FaultKind, str | None], ...]] = {
    "hotline": ANY,
    "website": ANY,
    "weibo": ((K.SERVER_ERROR, "/2/statuses/"), (K.GARBAGE, "/2/comments/to_me"), (K.TOO_MANY_REQUESTS, "/2/statuses/"),
              (K.RATE_LIMIT_CODE, "/2/comments/to_me"), (K.EXPIRED_TOKEN, "/2/statuses/"),
              (K.RATE_LIMIT_CODE, "/2/comments/"), (K.TOO_MANY_REQUESTS, "/2/comments/create"),
              (K.EXPIRED_TOKEN, "/2/comments/reply")),
    "wechat": ((K.RATE_LIMIT_CODE, SEND), (K.EXPIRED_TOKEN, SEND), (K.TOO_MANY_REQUESTS, SEND)),
}


def inject_some(fakes: FakeSet, rng: random.Random) -> None:
    """One round: a fault or two queued on every channel (rate limits ask for a one-second wait)."""
    for name, fake in fakes:
        kind, path = rng.choice(PLAN[name])
        wait = 1 if kind in (K.TOO_MANY_REQUESTS, K.RATE_LIMIT_CODE) else None
        # one expired-token answer at a time: a refresh (or the next try) then gets through
        count = 1 if kind is K.EXPIRED_TOKEN else rng.randint(1, 2)
        fake.inject(kind, count, retry_after=wait, path=path)


def recover(fakes: FakeSet) -> None:
    """Every channel healthy again."""
    for _name, fake in fakes:
        fake.clear_faults()
