import socket
import sys

TIMEOUT = 3


def recv_line(sock):  # (1)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1024)
        if not chunk:
            raise ConnectionError("closed before a full line")
        data += chunk
    return data


try:
    with socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock:  # (2)
        print(recv_line(sock))
        #> b'hello from server.py\n'
        sock.sendall(b"ping\n")
        print(recv_line(sock))
        #> b'ping\n'
        sock.shutdown(socket.SHUT_WR)  # (3)
        print(sock.recv(1024))  # (4)
        #> b''
except ConnectionRefusedError:  # (5)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
