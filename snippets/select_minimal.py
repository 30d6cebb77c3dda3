import select
import socket
import sys

GREETING = b"hello from select_minimal.py\n"

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = socket.create_server(("127.0.0.1", port))
server.setblocking(False)
print(f"listening on 127.0.0.1:{server.getsockname()[1]}")
clients = []
while True:
    readable, _, _ = select.select([server, *clients], [], [])  # (1)
    for sock in readable:
        if sock is server:
            conn, _ = server.accept()  # (2)
            conn.setblocking(False)
            conn.sendall(GREETING)  # (3)
            clients.append(conn)
        elif data := sock.recv(4096):  # (4)
            sock.sendall(data)  # (5)
        else:
            clients.remove(sock)  # (6)
            sock.close()
