import selectors
import socket
import sys

DATA = b"x" * 1_000_000

try:
    sock = socket.create_connection(("127.0.0.1", 8080), timeout=5)
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
sock.setblocking(False)

sel = selectors.DefaultSelector()
sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)  # (1)
view = memoryview(DATA)  # (2)
sent = 0
received = bytearray()
while True:
    events = sel.select(timeout=5)
    if not events:
        sys.exit("TimeoutError: the server did not answer for 5 s")
    mask = events[0][1]
    if mask & selectors.EVENT_WRITE:
        try:
            sent += sock.send(view[sent:])  # (3)
        except BlockingIOError:
            pass
        if sent == len(DATA):
            sock.shutdown(socket.SHUT_WR)  # (4)
            sel.modify(sock, selectors.EVENT_READ)
    if mask & selectors.EVENT_READ:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            continue
        if not chunk:  # (5)
            break
        received += chunk

print("sent:", sent)
#> sent: 1000000
print("received:", len(received))
#> received: 1000021
print("greeting + echo intact:", received == b"hello from server.py\n" + DATA)
#> greeting + echo intact: True

sel.close()
sock.close()
