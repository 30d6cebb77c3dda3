import contextlib
import socket


def connected_pair():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=3)
        server, _ = listener.accept()
    server.settimeout(3)
    return client, server


def fill(sock):  # (1)
    sock.setblocking(False)
    sent = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            sent += sock.send(b"x" * 65536)
    sock.settimeout(3)
    return sent


def read_to_end(sock):
    received = 0
    try:
        while chunk := sock.recv(65536):
            received += len(chunk)
    except ConnectionResetError as exc:
        return received, type(exc).__name__
    return received, "b''"


client, server = connected_pair()
with client, server:
    client.sendall(b"request\nextra\n")  # (2)
    server.recv(8)
    sent = fill(server)
    server.close()  # (3)
    received, end = read_to_end(client)
    got = "all" if received == sent else "part"
    print(f"close() -> the client got {got} of the data, then {end}")
    #> close() -> the client got part of the data, then ConnectionResetError

client, server = connected_pair()
with client, server:
    client.sendall(b"request\nextra\n")
    server.recv(8)
    sent = fill(server)
    server.shutdown(socket.SHUT_WR)  # (4)
    received, end = read_to_end(client)
    got = "all" if received == sent else "part"
    print(f"shutdown(SHUT_WR) -> the client got {got} of the data, then {end}")
    #> shutdown(SHUT_WR) -> the client got all of the data, then b''
    client.close()  # (5)
    print("the server reads on ->", server.recv(1024), server.recv(1024))  # (6)
    #> the server reads on -> b'extra\n' b''
