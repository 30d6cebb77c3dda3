import errno
import selectors
import socket
import sys

ADDRESS = ("127.0.0.1", 8080)


def name(err):
    return errno.errorcode.get(err, err)  # (1)


sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setblocking(False)
sel = selectors.DefaultSelector()

try:
    err = sock.connect_ex(ADDRESS)  # (2)
    print("connect_ex:", name(err))
    #> connect_ex: EINPROGRESS

    if err in (errno.EINPROGRESS, errno.EWOULDBLOCK):  # (3)
        sel.register(sock, selectors.EVENT_WRITE)
        ready = sel.select(timeout=3)  # (4)
        print("writable:", bool(ready))
        #> writable: True
        if not ready:
            sys.exit("TimeoutError: no answer from 127.0.0.1:8080 within 3 s")
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # (5)
        print("SO_ERROR:", name(err))
        #> SO_ERROR: 0
    if err:
        sys.exit(f"{name(err)}: could not connect to 127.0.0.1:8080. "
                 "Start the server first: python snippets/server.py")

    print("connect_ex again:", name(sock.connect_ex(ADDRESS)))  # (6)
    #> connect_ex again: 0
    print("and again:", name(sock.connect_ex(ADDRESS)))  # (7)
    #> and again: EISCONN
finally:
    sel.close()
    sock.close()
