"""Every snippet, run exactly as a reader runs it, prints what its page shows."""

import gc
import os
import re
import socketserver
import threading
import time

import pytest
import redirect
from conftest import CLIENTS, MEASURED, SNIPPETS, printed_output, run_snippet, transcript
from pytest_examples import CodeExample, EvalExample


@pytest.mark.parametrize("name", CLIENTS)
def test_client_prints_what_the_page_shows(name, servers):
    result = run_snippet(name, servers(CLIENTS[name]).port)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == printed_output(name)


def test_every_client_shows_some_output():
    # A snippet without `#>` lines would pass the test above by printing nothing.
    assert all(printed_output(name) for name in CLIENTS)


@pytest.mark.parametrize("name", sorted(p.stem for p in SNIPPETS.glob("*.py")))
def test_snippet_lint_and_print_check(name, eval_example: EvalExample, servers):
    """pytest-examples lints each snippet, checks its `#>` lines (--update-examples rewrites)."""
    path = SNIPPETS / f"{name}.py"
    example = CodeExample.create(path.read_text(), path=path)
    eval_example.set_config(quotes="either", line_length=88, target_version="py311")
    if eval_example.update_examples:
        eval_example.format_ruff(example)
    else:
        eval_example.lint_ruff(example)
    if name not in CLIENTS:
        return
    port = servers(CLIENTS[name]).port
    fds, threads = os.listdir("/proc/self/fd"), threading.enumerate()
    undo = redirect.install(port)
    try:
        if eval_example.update_examples:
            eval_example.run_print_update(example, module_globals={"__name__": "__main__"})
        else:
            eval_example.run_print_check(example, module_globals={"__name__": "__main__"})
    finally:
        undo()
    gc.collect()  # an unclosed socket would now raise ResourceWarning (an error here)
    assert sorted(os.listdir("/proc/self/fd")) == sorted(fds), "file descriptors left open"
    assert threading.enumerate() == threads, "threads left running"


POST = {"blocking_client", "nonblocking_client"}  # the post's own two snippets
REFUSED_HINT = (
    "ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
    "Start the server first: python snippets/server.py\n"
)
NO_SERVER = {  # (exit code, stdout, stderr) when nothing listens; the default is REFUSED_HINT
    "nonblocking_errors": (
        0,
        "connect: BlockingIOError EINPROGRESS\nrecv: ConnectionRefusedError ECONNREFUSED\n",
        "",
    ),
    "nonblocking_connect": (
        1,
        "connect_ex: EINPROGRESS\nwritable: True\nSO_ERROR: ECONNREFUSED\n",
        "ECONNREFUSED: could not connect to 127.0.0.1:8080. "
        "Start the server first: python snippets/server.py\n",
    ),
    "timeout_modes": (0, printed_output("timeout_modes"), ""),  # needs no server at all
}


@pytest.mark.parametrize("name", sorted(set(CLIENTS) - POST | set(MEASURED)))
def test_our_client_with_no_server_explains(name, closed_port, output_file):
    started = time.monotonic()
    result = run_snippet(name, closed_port)
    assert time.monotonic() - started < 5
    expected = NO_SERVER.get(name, (1, "", REFUSED_HINT))
    assert (result.returncode, result.stdout, result.stderr) == expected
    if name != "timeout_modes":
        output_file(
            f"{name}-no-server",
            transcript(f"python snippets/{name}.py", result.stdout, result.stderr),
        )


@pytest.mark.parametrize(
    ("name", "stdout", "failing_line"),
    [
        ("blocking_client", "", "sock.connect(('127.0.0.1', 8080))"),
        ("nonblocking_client", "연결 시도 중...\n", "data = sock.recv(1024)"),
    ],
)
def test_post_client_with_no_server(name, stdout, failing_line, closed_port, output_file):
    """The post's snippets end in ConnectionRefusedError and leave their socket unclosed."""
    started = time.monotonic()
    result = run_snippet(name, closed_port, strict=False)
    assert time.monotonic() - started < 5
    assert (result.returncode, result.stdout) == (1, stdout)
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert f"    {failing_line}" in result.stderr
    assert result.stderr.endswith("\nConnectionRefusedError: [Errno 111] Connection refused\n")
    output_file(
        f"{name}-no-server", transcript(f"python snippets/{name}.py", stdout, result.stderr)
    )

    strict = run_snippet(name, closed_port)
    assert "ResourceWarning: unclosed <socket.socket" in strict.stderr


class OtherGreetingServer(socketserver.ThreadingTCPServer):
    """Not our server: another greeting line, then an echo, like any greeting server on :8080."""

    daemon_threads = True
    greeting = b"220 some other server ready\n"

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            self.request.sendall(self.server.greeting)
            while data := self.request.recv(4096):
                self.request.sendall(data)

    def __init__(self):
        super().__init__(("127.0.0.1", 0), self.Handler)


@pytest.mark.parametrize(
    "name", ["blocking_client", "peer_closed", "selectors_client", "asyncio_client"]
)
def test_clients_work_with_another_greeting_server(name):
    with OtherGreetingServer() as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            result = run_snippet(name, server.server_address[1])
        finally:
            server.shutdown()
            thread.join(timeout=5)
    assert (result.returncode, result.stderr) == (0, "")
    expected = printed_output(name).replace(
        r"hello from server.py\n", r"220 some other server ready\n"
    )
    assert result.stdout == expected


SECONDS = r"\d+\.\d\d"
BUSY_WAIT = re.compile(
    rf"busy loop: (?P<spins>[\d,]+) calls, (?P<busy_cpu>{SECONDS}) s of CPU "
    rf"in (?P<busy_wall>{SECONDS}) s, b'hello from server.py\\n'\n"
    rf"selectors: (?P<calls>\d+) calls, (?P<sel_cpu>{SECONDS}) s of CPU "
    rf"in (?P<sel_wall>{SECONDS}) s, b'hello from server.py\\n'\n"
)


def test_busy_wait_burns_cpu_and_selectors_does_not(servers, output_file):
    """Measured, so not byte-exact: the shape and the orders of magnitude are checked."""
    result = run_snippet("busy_wait", servers(MEASURED["busy_wait"]).port)
    assert (result.returncode, result.stderr) == (0, "")
    m = BUSY_WAIT.fullmatch(result.stdout)
    assert m, result.stdout
    assert int(m["spins"].replace(",", "")) > 10_000
    assert float(m["busy_cpu"]) >= 0.5 * float(m["busy_wall"]) and float(m["busy_wall"]) >= 0.9
    assert int(m["calls"]) <= 3 and float(m["sel_cpu"]) <= 0.05 and float(m["sel_wall"]) >= 0.9
    output_file("busy_wait", transcript("python snippets/busy_wait.py", result.stdout), BUSY_WAIT)


MANY_CLIENTS = re.compile(
    rf"sequential: 10 clients in (?P<sequential>{SECONDS}) s\n"
    rf"threads: 10 clients in (?P<threads>{SECONDS}) s\n"
    rf"selectors: 10 clients in (?P<selectors>{SECONDS}) s\n"
    rf"asyncio: 10 clients in (?P<asyncio>{SECONDS}) s\n"
)


def test_many_clients_one_after_another_or_all_at_once(servers, output_file):
    delay = MEASURED["many_clients"]
    result = run_snippet("many_clients", servers(delay).port)
    assert (result.returncode, result.stderr) == (0, "")
    m = MANY_CLIENTS.fullmatch(result.stdout)
    assert m, result.stdout
    assert 10 * delay <= float(m["sequential"]) < 10 * delay + 1
    for way in ("threads", "selectors", "asyncio"):
        assert delay <= float(m[way]) < 3 * delay
    output_file(
        "many_clients", transcript("python snippets/many_clients.py", result.stdout), MANY_CLIENTS
    )
