"""The errno table on the platform page. Its Linux column comes from calls made here.

macOS and Windows values are stated, with their sources on the page:
- macOS: XNU's bsd/sys/errno.h (Apple's open-source kernel headers).
- Windows: Microsoft's "Windows Sockets Error Codes" (winsock2.h). On Windows a non-blocking
  connect() reports WSAEWOULDBLOCK, not WSAEINPROGRESS, and there is no separate EAGAIN.
"""

import errno
import selectors
import socket

OTHER = {  # name: (macOS, Windows)
    "EINPROGRESS": ("36", "10035 `WSAEWOULDBLOCK`"),
    "EAGAIN": ("35", "10035 `WSAEWOULDBLOCK`"),
    "EWOULDBLOCK": ("35", "10035 `WSAEWOULDBLOCK`"),
    "ECONNREFUSED": ("61", "10061 `WSAECONNREFUSED`"),
    "EISCONN": ("56", "10056 `WSAEISCONN`"),
}


def observed(closed_port):
    """errno name -> the OSError a real call raised on this machine."""
    seen = {}
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as sock:
            sock.setblocking(False)
            code = sock.connect_ex(server.getsockname())
            seen["EINPROGRESS"] = OSError(code, "connect")
            with selectors.DefaultSelector() as sel:
                sel.register(sock, selectors.EVENT_WRITE)
                assert sel.select(5)
            try:
                sock.recv(1)
            except OSError as exc:
                seen["EAGAIN"] = seen["EWOULDBLOCK"] = exc
            sock.connect_ex(server.getsockname())  # 0: the pending connect has finished
            seen["EISCONN"] = OSError(sock.connect_ex(server.getsockname()), "connect")
            server.accept()[0].close()
    try:
        socket.create_connection(("127.0.0.1", closed_port), timeout=5)
    except OSError as exc:
        seen["ECONNREFUSED"] = exc
    return seen


def test_errno_table(closed_port, output_file):
    seen = observed(closed_port)
    rows = ["| errno | Python | Linux | macOS | Windows |", "|---|---|---|---|---|"]
    for name, (macos, windows) in OTHER.items():
        exc = seen[name]
        assert exc.errno == getattr(errno, name), (name, exc)  # the call really failed so
        rows.append(f"| `{name}` | `{type(exc).__name__}` | {exc.errno} | {macos} | {windows} |")
    output_file("errno", "\n".join(rows) + "\n", suffix=".md")
