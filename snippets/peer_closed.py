import socket
import sys

try:
    sock = socket.create_connection(("127.0.0.1", 8080), timeout=5)  # (1)
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")

with sock:
    print(sock.recv(1024))  # (2)
    #> b'hello from server.py\n'
    sock.sendall(b"ping\n")
    print(sock.recv(1024))
    #> b'ping\n'
    sock.shutdown(socket.SHUT_WR)  # (3)
    print(sock.recv(1024))  # (4)
    #> b''
