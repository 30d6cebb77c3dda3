import errno
import os
import selectors
import socket
import sys

ADDRESS = ("127.0.0.1", 8080)
TIMEOUT = 3.0  # (1)

sel = selectors.DefaultSelector()
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setblocking(False)

try:
    err = sock.connect_ex(ADDRESS)  # (2)
    if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
        raise OSError(err, os.strerror(err))
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
        try:
            chunk = sock.recv(1024)
        except BlockingIOError:  # (6)
            continue
        if not chunk:  # (7)
            raise ConnectionError("closed before a full line")
        data += chunk
    print(data)
    #> b'hello from server.py\n'
except ConnectionRefusedError:  # (8)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError as exc:
    sys.exit(f"TimeoutError: {exc} within {TIMEOUT:g} s")
except OSError as exc:
    sys.exit(f"OSError: {errno.errorcode.get(exc.errno, exc.errno)}, "
             "could not reach 127.0.0.1:8080")
finally:
    sel.close()
    sock.close()
