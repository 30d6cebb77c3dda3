import errno
import socket
import sys

DATA = b"x" * 16_000_000  # (1)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)  # (2)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
sock.settimeout(3)
try:
    sock.connect(("127.0.0.1", 8080))
    sock.setblocking(False)

    sent = sock.send(DATA)  # (3)
    print("send() took all 16 MB:", sent == len(DATA))
    #> send() took all 16 MB: False

    try:
        sock.sendall(DATA[sent:])  # (4)
    except BlockingIOError as exc:
        print("sendall():", type(exc).__name__, errno.errorcode[exc.errno])
        #> sendall(): BlockingIOError EAGAIN
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit("TimeoutError: no answer from 127.0.0.1:8080 within 3 s")
finally:
    sock.close()  # (5)
