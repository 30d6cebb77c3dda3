import contextlib
import selectors
import socket
import ssl
import sys

TIMEOUT = 3
CHUNK = 1024
context = ssl.create_default_context()
sel = selectors.DefaultSelector()


def wait(sock, event):  # (1)
    sel.modify(sock, event)
    if not sel.select(TIMEOUT):
        raise TimeoutError


def handshake(sock):
    while True:
        try:
            sock.do_handshake()  # (2)
            return
        except ssl.SSLWantReadError:  # (3)
            wait(sock, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            wait(sock, selectors.EVENT_WRITE)


def send_all(sock, data):
    while data:
        try:
            data = data[sock.send(data) :]  # (4)
        except ssl.SSLWantWriteError:
            wait(sock, selectors.EVENT_WRITE)
        except ssl.SSLWantReadError:  # (5)
            wait(sock, selectors.EVENT_READ)


def read_line(sock, buffer):
    event = selectors.EVENT_READ
    while b"\n" not in buffer:
        wait(sock, event)  # (6)
        try:
            chunk = sock.recv(CHUNK)
            while sock.pending():  # (7)
                chunk += sock.recv(CHUNK)
        except ssl.SSLWantReadError:  # (8)
            event = selectors.EVENT_READ
            continue
        except ssl.SSLWantWriteError:
            event = selectors.EVENT_WRITE
            continue
        if not chunk:
            raise ConnectionError
        buffer += chunk
        event = selectors.EVENT_READ
    line, _, rest = buffer.partition(b"\n")
    return line + b"\n", rest


try:
    with (
        socket.create_connection(("127.0.0.1", 8443), timeout=TIMEOUT) as raw,  # (9)
        context.wrap_socket(
            raw, server_hostname="127.0.0.1", do_handshake_on_connect=False  # (10)
        ) as sock,
    ):
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ)
        handshake(sock)
        line, rest = read_line(sock, b"")
        print(line)
        #> b'hello from tls_server.py\n'
        for word in (b"one", b"two", b"three"):
            send_all(sock, word + b"\n")
            line, rest = read_line(sock, rest)
            print(line)
            #> b'one\n'
            #> b'two\n'
            #> b'three\n'
        with contextlib.suppress(OSError):  # (11)
            sock.unwrap()
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8443. Start the server "
             "first: python snippets/tls_server.py --cert server.pem --key server.key")
except ssl.SSLCertVerificationError as exc:
    sys.exit(f"SSLCertVerificationError: certificate verify failed: {exc.verify_message}")
except ssl.SSLError as exc:
    sys.exit(f"SSLError: no TLS with 127.0.0.1:8443: {exc.reason}")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8443 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8443 within {TIMEOUT} s")
finally:
    sel.close()
