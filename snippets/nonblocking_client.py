import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # (1)
sock.setblocking(False)

try:
    sock.connect(('127.0.0.1', 8080))  # (2)
except BlockingIOError:  # (3)
    print("연결 시도 중...")
    #> 연결 시도 중...

try:  # (4)
    data = sock.recv(1024)
    print(data)
except BlockingIOError:  # (5)
    pass

sock.close()  # (6)
