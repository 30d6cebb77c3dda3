import selectors
import socket
import sys

TIMEOUT = 3

try:
    with (
        socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock,  # (1)
        selectors.DefaultSelector() as sel,
    ):
        sock.setblocking(False)
        sock.send(b"ping\n")  # (2)
        sock.shutdown(socket.SHUT_WR)  # (3)

        sel.register(sock, selectors.EVENT_READ)
        received = b""
        while True:
            if not sel.select(TIMEOUT):
                raise TimeoutError
            try:
                chunk = sock.recv(4096)
            except BlockingIOError:  # (4)
                continue
            if not chunk:  # (5)
                break
            received += chunk
        print(received)
        #> b'hello from server.py\nping\n'
except ConnectionRefusedError:  # (6)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
