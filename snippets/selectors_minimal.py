import selectors
import socket
import sys

GREETING = b"hello from selectors_minimal.py\n"

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
sel = selectors.DefaultSelector()  # (1)
server = socket.create_server(("127.0.0.1", port))
server.setblocking(False)
sel.register(server, selectors.EVENT_READ)
print(f"listening on 127.0.0.1:{server.getsockname()[1]}")
while True:
    for key, _ in sel.select():  # (2)
        sock = key.fileobj
        if sock is server:
            conn, _ = server.accept()
            conn.setblocking(False)
            conn.sendall(GREETING)
            sel.register(conn, selectors.EVENT_READ)
        elif data := sock.recv(4096):
            sock.sendall(data)  # (3)
        else:
            sel.unregister(sock)  # (4)
            sock.close()
