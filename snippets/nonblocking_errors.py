import errno
import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setblocking(False)

try:
    sock.connect(("127.0.0.1", 8080))
except BlockingIOError as exc:  # (1)
    print("connect:", type(exc).__name__, errno.errorcode[exc.errno])
    #> connect: BlockingIOError EINPROGRESS

try:
    data = sock.recv(1024)
except BlockingIOError as exc:  # (2)
    print("recv:", type(exc).__name__, errno.errorcode[exc.errno])
    #> recv: BlockingIOError EAGAIN
except ConnectionError as exc:  # (3)
    print("recv:", type(exc).__name__, errno.errorcode[exc.errno])
else:  # (4)
    print("recv:", data)

sock.close()
