import selectors
import socket
import sys

TIMEOUT = 3
LIMIT = 65536

try:
    with (
        socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock,
        selectors.DefaultSelector() as sel,
    ):
        sock.setblocking(False)
        sock.send(b"one\ntwo\nthree\n")  # (1)
        sel.register(sock, selectors.EVENT_READ)
        buffer = b""
        lines = 0
        while lines < 4:  # (2)
            if not sel.select(TIMEOUT):
                raise TimeoutError
            try:
                chunk = sock.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:  # (3)
                raise ConnectionError("closed before the last line")
            buffer += chunk
            while b"\n" in buffer:  # (4)
                end = buffer.index(b"\n") + 1
                line, buffer = buffer[:end], buffer[end:]  # (5)
                print(line)
                #> b'hello from server.py\n'
                #> b'one\n'
                #> b'two\n'
                #> b'three\n'
                lines += 1
            if len(buffer) > LIMIT:  # (6)
                raise ValueError(f"a line longer than {LIMIT} bytes")
except ConnectionRefusedError:  # (7)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
except ValueError as exc:
    sys.exit(f"ValueError: 127.0.0.1:8080 sent {exc}")
