import socket

with (
    socket.create_server(("127.0.0.1", 0)) as listener,
    socket.create_connection(listener.getsockname(), timeout=3) as sender,
    listener.accept()[0] as receiver,
):
    receiver.settimeout(3)
    buffer = b""
    for piece in (b"one\ntwo\nth", b"ree\n"):  # (1)
        sender.sendall(piece)
        chunk = receiver.recv(1024)  # (2)
        buffer += chunk
        lines = []
        while b"\n" in buffer:  # (3)
            end = buffer.index(b"\n") + 1
            line, buffer = buffer[:end], buffer[end:]  # (4)
            lines.append(line)
        print("recv:", chunk, "lines:", lines, "kept:", buffer)
        #> recv: b'one\ntwo\nth' lines: [b'one\n', b'two\n'] kept: b'th'
        #> recv: b'ree\n' lines: [b'three\n'] kept: b''
