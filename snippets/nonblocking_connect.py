import errno
import selectors
import socket
import sys

ADDRESS = ("127.0.0.1", 8080)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setblocking(False)
sel = selectors.DefaultSelector()

err = sock.connect_ex(ADDRESS)  # (1)
print("connect_ex:", errno.errorcode[err])
#> connect_ex: EINPROGRESS

sel.register(sock, selectors.EVENT_WRITE)
ready = sel.select(timeout=5)  # (2)
print("writable:", bool(ready))
#> writable: True

err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # (3)
print("SO_ERROR:", errno.errorcode.get(err, err))
#> SO_ERROR: 0
if err:
    sel.close()
    sock.close()
    sys.exit(f"{errno.errorcode[err]}: could not connect to 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")

print("connect_ex again:", sock.connect_ex(ADDRESS))  # (4)
#> connect_ex again: 0
print("and again:", errno.errorcode[sock.connect_ex(ADDRESS)])  # (5)
#> and again: EISCONN

sel.close()
sock.close()
