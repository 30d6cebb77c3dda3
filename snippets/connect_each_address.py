import socket
import sys

HOST = "localhost"
TIMEOUT = 3

try:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))  # (1)
        port = server.getsockname()[1]
        address = (HOST, port)
        infos = socket.getaddrinfo(HOST, port, type=socket.SOCK_STREAM)  # (2)
        print("addresses:", [info[4][0] for info in infos])
        #> addresses: ['::1', '127.0.0.1']

        try:
            with socket.create_connection(address, TIMEOUT):  # (3)
                pass
        except OSError as exc:
            print("all_errors=False:", type(exc).__name__)
            #> all_errors=False: ConnectionRefusedError

        try:
            with socket.create_connection(address, TIMEOUT, all_errors=True):  # (4)
                pass
        except ExceptionGroup as group:
            print("all_errors=True:", [type(exc).__name__ for exc in group.exceptions])
            #> all_errors=True: ['ConnectionRefusedError', 'ConnectionRefusedError']

        server.listen()  # (5)
        with socket.create_connection(address, TIMEOUT) as sock:
            print("connected to", sock.getpeername()[0])
            #> connected to 127.0.0.1
except OSError as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
