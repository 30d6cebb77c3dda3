"""Point the snippets' fixed addresses (127.0.0.1:8080, and :8443 for TLS) at a test server.

The snippets are run unchanged. This module patches ``socket.socket.connect``
and ``connect_ex`` so that a connection to 127.0.0.1:8080 or 127.0.0.1:8443
goes to the port a test fixture chose instead. asyncio and ``socket.create_connection`` both end
in those two methods, so every client style is covered.
"""

import socket

SNIPPET_ADDRESSES = {("127.0.0.1", 8080), ("127.0.0.1", 8443)}


def install(port):
    """Redirect connections to SNIPPET_ADDRESSES to 127.0.0.1:<port>; return an undo function."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def target(address):
        return ("127.0.0.1", port) if tuple(address) in SNIPPET_ADDRESSES else address

    def connect(self, address):
        return original_connect(self, target(address))

    def connect_ex(self, address):
        return original_connect_ex(self, target(address))

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex

    def undo():
        socket.socket.connect = original_connect
        socket.socket.connect_ex = original_connect_ex

    return undo
