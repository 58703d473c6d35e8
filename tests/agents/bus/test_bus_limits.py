"""Socket limits: a bus raises the open-file limit it may, passes ZeroMQ's default of
1,023 sockets, and says in one line what to do when a limit is reached."""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap

import pytest
import zmq

from gridcoop.agents.bus.errors import SocketLimitError
from gridcoop.agents.bus.messages import LedgerBlock
from gridcoop.agents.bus.sockets import FILE_LIMIT_CEILING, new_context, open_file_limit
from gridcoop.agents.bus.transport import Bus


def _in_child(code: str, soft: int, hard: int) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python child whose open-file limits are (soft, hard)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, preexec_fn=limit, timeout=120, check=False)


def test_open_file_limit_rises_to_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.skip("the hard open-file limit here is below the test's soft limit")
    done = _in_child("""
        import resource
        from gridcoop.agents.bus.sockets import open_file_limit
        print(open_file_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    """, 256, hard)
    assert done.returncode == 0, done.stderr
    want = FILE_LIMIT_CEILING if hard == resource.RLIM_INFINITY else min(hard, FILE_LIMIT_CEILING)
    assert done.stdout.split() == [str(want), str(want)]


def test_context_allows_as_many_sockets_as_open_files() -> None:
    context = new_context()
    try:
        allowed = context.get(zmq.MAX_SOCKETS)
        assert allowed == min(open_file_limit(), context.get(zmq.SOCKET_LIMIT))
        assert allowed > 1023  # ZeroMQ's default, which 100 regions pass
    finally:
        context.term()


def test_a_bus_holds_more_than_zeromq_default_of_1023_sockets() -> None:
    if open_file_limit() < 4096:
        pytest.skip("this machine's hard open-file limit is too low for the test")
    with Bus() as bus:
        endpoints = [bus.endpoint(f"e{i}") for i in range(700)]  # a ROUTER and an XPUB each
        hub = bus.endpoint("hub")
        for endpoint in endpoints[:50]:  # and a SUB each
            endpoint.subscribe("hub", "t")
        hub.publish("t", LedgerBlock(height=1, block_hash="ab" * 32, block_bytes=b"x"))
        bus.settle()
        assert [len(e.drain()) for e in endpoints[:51]] == [1] * 50 + [0]


def test_reaching_the_limit_is_one_clear_error() -> None:
    done = _in_child("""
        from gridcoop.agents.bus.errors import SocketLimitError
        from gridcoop.agents.bus.transport import Bus
        bus = Bus()
        try:
            for i in range(1000):
                bus.endpoint(f"e{i}")
        except SocketLimitError as exc:
            print(exc)
        bus.close()
    """, 200, 200)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith("cannot open another ZeroMQ socket (Too many open files)")
    assert "200 open files" in line and "fewer regions" in line and "ulimit -Hn" in line
    assert issubclass(SocketLimitError, RuntimeError)
