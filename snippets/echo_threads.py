"""Echo server, step 1: blocking sockets and one thread per client."""

import signal
import socket
import sys
import threading

GREETING = b"hello from echo_threads.py\n"


def serve(conn):
    with conn:
        try:
            conn.sendall(GREETING)
            while data := conn.recv(4096):  # (1)
                conn.sendall(data)  # (2)
        except OSError:
            pass  # the client reset the connection, or the server is stopping


def accept_forever(server, clients):
    while True:
        try:
            conn, _ = server.accept()  # (3)
        except OSError:
            return  # the listening socket was shut down: stop accepting
        thread = threading.Thread(target=serve, args=(conn,))
        clients[conn] = thread
        thread.start()
        for done in [c for c, t in list(clients.items()) if not t.is_alive()]:
            del clients[done]


def main(port):
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *args: stop.set())  # (4)
    clients = {}  # connection -> its thread
    with socket.create_server(("127.0.0.1", port), backlog=1024) as server:
        print(f"listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
        acceptor = threading.Thread(target=accept_forever, args=(server, clients))
        acceptor.start()
        stop.wait()
        server.shutdown(socket.SHUT_RDWR)  # (5)
        acceptor.join()
        for conn in list(clients):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
        for thread in list(clients.values()):
            thread.join(timeout=1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print("server stopped", flush=True)
