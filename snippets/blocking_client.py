import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # (1)

sock.connect(('127.0.0.1', 8080))  # (2)

data = sock.recv(1024)  # (3)
print(data)
#> b'hello from server.py\n'

sock.close()  # (4)
