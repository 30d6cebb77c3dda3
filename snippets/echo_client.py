import socket
import sys

TIMEOUT = 3
LIMIT = 65536


def read_line(lines):
    line = lines.readline(LIMIT + 1)
    if len(line) > LIMIT:
        raise ValueError(f"a line longer than {LIMIT} bytes")
    if not line.endswith(b"\n"):
        raise ConnectionError("closed in the middle of a line")
    return line


try:
    with (
        socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock,
        sock.makefile("rb") as lines,  # (1)
    ):
        print(read_line(lines))
        #> b'hello from server.py\n'
        for word in (b"one", b"two", b"three"):
            sock.sendall(word + b"\n")
            print(read_line(lines))  # (2)
            #> b'one\n'
            #> b'two\n'
            #> b'three\n'
except ConnectionRefusedError:  # (3)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
except ValueError as exc:
    sys.exit(f"ValueError: 127.0.0.1:8080 sent {exc}")
