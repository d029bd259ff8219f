"""The pipeline's dbt checks a running Spark statement several times a second, whatever dbt-spark's profile
allows (a whole number of seconds): a check of where dbt-spark keeps the interval, so that an upgrade that moves
it fails here rather than silently slowing every run down."""

from __future__ import annotations

from dbt.adapters.spark.connections import PyhiveConnectionWrapper

from jobpulse.dbt import STATEMENT_POLL_SECONDS, poll_statements_faster


def test_connections_poll_every_fraction_of_a_second() -> None:
    poll_statements_faster()
    poll_statements_faster()  # once per process: a second call wraps nothing again
    connection = PyhiveConnectionWrapper(handle=None, poll_interval=1)
    assert connection.poll_interval == STATEMENT_POLL_SECONDS < 1


def test_a_shorter_interval_than_ours_is_kept() -> None:
    poll_statements_faster()
    assert PyhiveConnectionWrapper(handle=None, poll_interval=0).poll_interval == 0
