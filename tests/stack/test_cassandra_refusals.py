"""How the stack tells a Cassandra node that refuses a login from one that does not answer (pure functions)."""

from __future__ import annotations

from cassandra import AuthenticationFailed, OperationTimedOut
from cassandra.cluster import NoHostAvailable

from jobpulse.stack.cassandra import _refused_login


def test_a_refused_login_is_found_among_the_hosts_errors():
    refusal = AuthenticationFailed("Remote end requires authentication")
    refused = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": refusal})
    timed_out = NoHostAvailable("Unable to connect to any servers", {"127.0.0.1:9042": OperationTimedOut("3 s")})
    assert _refused_login(refused)
    assert not _refused_login(timed_out)


def test_a_session_whose_every_pool_failed_is_no_refusal():
    # the driver lists only the hosts' addresses then (seen when a node restarted under a soak's load)
    assert not _refused_login(NoHostAvailable("Unable to connect to any servers", ["127.0.0.1"]))
