import errno
import select
import signal
import socket
import sys

print("SIGPIPE ->", signal.getsignal(signal.SIGPIPE).name)  # (1)
#> SIGPIPE -> SIG_IGN

with socket.create_server(("127.0.0.1", 0)) as listener:
    with socket.create_connection(listener.getsockname(), timeout=3) as sock:
        peer, _ = listener.accept()
        peer.close()  # (2)
        print("recv() ->", sock.recv(1024))
        #> recv() -> b''
        print("send() ->", sock.send(b"ping\n"))  # (3)
        #> send() -> 5

        poller = select.poll()
        poller.register(sock, 0)  # (4)
        if not poller.poll(3000):
            sys.exit("TimeoutError: no RST from the peer within 3 s")
        try:
            sock.send(b"ping\n")
        except BrokenPipeError as exc:  # (5)
            print("send() again ->", type(exc).__name__, errno.errorcode[exc.errno])
            #> send() again -> BrokenPipeError EPIPE
