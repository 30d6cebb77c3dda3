import socket
import sys
import time

try:
    sock = socket.create_connection(("127.0.0.1", 8080), timeout=0.5)  # (1)
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except TimeoutError:  # (2)
    sys.exit("TimeoutError: no answer from 127.0.0.1:8080 within 0.5 s")

with sock:
    print("timeout:", sock.gettimeout())
    #> timeout: 0.5
    started = time.monotonic()
    try:
        print(sock.recv(1024))  # (3)
    except TimeoutError as exc:  # (4)
        print(f"TimeoutError after {time.monotonic() - started:.1f} s: {exc}")
        #> TimeoutError after 0.5 s: timed out
    except ConnectionError as exc:
        sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
