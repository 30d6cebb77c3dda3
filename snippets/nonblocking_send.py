import selectors
import socket
import sys

DATA = b"x" * 1_000_000
TIMEOUT = 3

try:
    with (
        socket.create_connection(("127.0.0.1", 8080), timeout=TIMEOUT) as sock,
        selectors.DefaultSelector() as sel,
    ):
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)  # (1)
        view = memoryview(DATA)  # (2)
        sent = 0
        received = bytearray()
        while True:
            events = sel.select(TIMEOUT)
            if not events:
                raise TimeoutError
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
except ConnectionRefusedError:  # (6)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
