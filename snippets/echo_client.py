import socket
import sys

try:
    sock = socket.create_connection(("127.0.0.1", 8080), timeout=5)
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")

with sock, sock.makefile("rb") as lines:  # (1)
    print(lines.readline())
    #> b'hello from server.py\n'
    for word in (b"one", b"two", b"three"):
        sock.sendall(word + b"\n")
        print(lines.readline())  # (2)
        #> b'one\n'
        #> b'two\n'
        #> b'three\n'
