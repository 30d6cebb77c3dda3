import errno
import socket
import sys

DATA = b"x" * 16_000_000  # (1)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)  # (2)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
sock.settimeout(5)
try:
    sock.connect(("127.0.0.1", 8080))
except ConnectionRefusedError:
    sock.close()
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
sock.setblocking(False)

sent = sock.send(DATA)  # (3)
print("send() took all 16 MB:", sent == len(DATA))
#> send() took all 16 MB: False

try:
    sock.sendall(DATA[sent:])  # (4)
except BlockingIOError as exc:
    print("sendall():", type(exc).__name__, errno.errorcode[exc.errno])
    #> sendall(): BlockingIOError EAGAIN

sock.close()  # (5)
