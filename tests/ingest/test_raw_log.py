"""The raw log writer's bookkeeping of writes in flight (what its low watermark rests on), without Cassandra:
a stand-in session whose requests the test answers one by one."""

from __future__ import annotations

from ingest.raw_log import PendingWrite


class Answerable:
    """A driver future the test answers."""

    def add_callbacks(self, callback, errback) -> None:
        self.callback, self.errback = callback, errback


class Session:
    def __init__(self) -> None:
        self.sent: list[Answerable] = []

    def execute_async(self, request) -> Answerable:
        self.sent.append(Answerable())
        return self.sent[-1]


def test_a_failed_write_stays_in_flight_until_every_request_sent_is_answered():
    session, settled = Session(), []
    write = PendingWrite(session, ["a", "b", "c"], window=2, on_settled=lambda: settled.append(True))
    first, second = session.sent
    first.errback(TimeoutError("no answer"))
    assert write._done.is_set() and len(session.sent) == 2  # the caller retries; nothing more is sent
    assert settled == [], "a request already sent may still be applied: its arrival is still in flight"
    second.callback(None)
    assert settled == [True]


def test_a_write_settles_once_when_every_request_is_acknowledged():
    session, settled = Session(), []
    PendingWrite(session, ["a", "b", "c"], window=2, on_settled=lambda: settled.append(True))
    for answered in range(3):
        session.sent[answered].callback(None)
    assert settled == [True] and len(session.sent) == 3


def test_a_write_that_could_not_start_is_settled_at_once():
    settled = []
    write = PendingWrite(None, [], error=RuntimeError("unregistered"), on_settled=lambda: settled.append(True))
    assert settled == [True] and write._done.is_set()
