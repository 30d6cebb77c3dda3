import errno
import socket
import struct

with socket.create_server(("127.0.0.1", 0)) as listener:
    address = listener.getsockname()

    with socket.create_connection(address, timeout=3) as sock:
        peer, _ = listener.accept()
        peer.close()  # (1)
        print("FIN: recv() ->", sock.recv(1024))  # (2)
        #> FIN: recv() -> b''

    with socket.create_connection(address, timeout=3) as sock:
        peer, _ = listener.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()  # (3)
        try:
            sock.recv(1024)
        except ConnectionResetError as exc:  # (4)
            print("RST: recv() ->", type(exc).__name__, errno.errorcode[exc.errno])
            #> RST: recv() -> ConnectionResetError ECONNRESET
        print("RST, recv() again ->", sock.recv(1024))  # (5)
        #> RST, recv() again -> b''
