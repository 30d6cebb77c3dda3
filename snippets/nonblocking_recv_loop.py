import selectors
import socket
import sys

try:
    sock = socket.create_connection(("127.0.0.1", 8080), timeout=5)  # (1)
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")

sock.setblocking(False)
sock.send(b"ping\n")  # (2)
sock.shutdown(socket.SHUT_WR)  # (3)

sel = selectors.DefaultSelector()
sel.register(sock, selectors.EVENT_READ)
received = b""
while True:
    if not sel.select(timeout=5):
        sys.exit("TimeoutError: the server sent nothing for 5 s")
    try:
        chunk = sock.recv(4096)
    except BlockingIOError:  # (4)
        continue
    if not chunk:  # (5)
        break
    received += chunk
print(received)
#> b'hello from server.py\nping\n'

sel.close()
sock.close()
