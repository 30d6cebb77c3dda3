import socket
import struct
import sys

TIMEOUT = 3
HEADER = struct.Struct("!I")  # (1)
LIMIT = 65536


def recv_exactly(sock, size):  # (2)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))  # (3)
        if not chunk:
            raise ConnectionError("closed in the middle of a message")
        data += chunk
    return data


def send_message(sock, payload):
    sock.sendall(HEADER.pack(len(payload)) + payload)  # (4)


def recv_message(sock):
    (size,) = HEADER.unpack(recv_exactly(sock, HEADER.size))
    if size > LIMIT:  # (5)
        raise ValueError(f"a message of {size} bytes")
    return recv_exactly(sock, size)


try:
    with socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock:
        print(recv_message(sock))
        #> b'hello from framed_server.py'
        for message in (b"one", b"two\nlines", b""):  # (6)
            send_message(sock, message)
            print(recv_message(sock))
            #> b'one'
            #> b'two\nlines'
            #> b''
except ConnectionRefusedError:  # (7)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/framed_server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
except ValueError as exc:
    sys.exit(f"ValueError: 127.0.0.1:8080 sent {exc}")
