import contextlib
import socket
import ssl
import sys

TIMEOUT = 3
context = ssl.create_default_context()  # (1)

try:
    with (
        socket.create_connection(("127.0.0.1", 8443), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,  # (2)
        sock.makefile("rb") as lines,
    ):
        print(lines.readline())  # (3)
        #> b'hello from tls_server.py\n'
        for word in (b"one", b"two", b"three"):
            sock.sendall(word + b"\n")
            print(lines.readline())
            #> b'one\n'
            #> b'two\n'
            #> b'three\n'
        sock.setblocking(False)  # (4)
        with contextlib.suppress(OSError):
            sock.unwrap()
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8443. Start the server "
             "first: python snippets/tls_server.py --cert server.pem --key server.key")
except ssl.SSLCertVerificationError as exc:  # (5)
    sys.exit(f"SSLCertVerificationError: certificate verify failed: {exc.verify_message}")
except ssl.SSLError as exc:  # (6)
    sys.exit(f"SSLError: no TLS with 127.0.0.1:8443: {exc.reason}")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8443 dropped the connection")
except TimeoutError:  # (7)
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8443 within {TIMEOUT} s")
