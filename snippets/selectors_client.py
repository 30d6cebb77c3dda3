import os
import selectors
import socket
import sys

ADDRESS = ("127.0.0.1", 8080)
TIMEOUT = 5.0  # (1)

sel = selectors.DefaultSelector()
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setblocking(False)

try:
    sock.connect_ex(ADDRESS)  # (2)
    sel.register(sock, selectors.EVENT_WRITE)
    if not sel.select(TIMEOUT):  # (3)
        raise TimeoutError("connect() did not finish")
    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # (4)
    if err:
        raise OSError(err, os.strerror(err))

    sel.modify(sock, selectors.EVENT_READ)
    data = b""
    while not data.endswith(b"\n"):  # (5)
        if not sel.select(TIMEOUT):
            raise TimeoutError("no greeting arrived")
        chunk = sock.recv(1024)
        if not chunk:  # (6)
            break
        data += chunk
    print(data)
    #> b'hello from server.py\n'
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except TimeoutError as exc:
    sys.exit(f"TimeoutError: {exc} within {TIMEOUT:g} s")
finally:
    sel.close()
    sock.close()
