import errno
import socket

with socket.create_server(("127.0.0.1", 0)) as listener:  # (1)
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=3) as client:
        conn, _ = listener.accept()
        conn.close()  # (2)
        client.recv(1024)

for reuse in (False, True):
    with socket.socket() as sock:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # (3)
        try:
            sock.bind(("127.0.0.1", port))
            result = "bound"
        except OSError as exc:
            result = f"{type(exc).__name__} {errno.errorcode[exc.errno]}"
        print("SO_REUSEADDR", reuse, "->", result)  # (4)
        #> SO_REUSEADDR False -> OSError EADDRINUSE
        #> SO_REUSEADDR True -> bound

with socket.create_server(("127.0.0.1", port)):  # (5)
    print("create_server() -> bound")
    #> create_server() -> bound
