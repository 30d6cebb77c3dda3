import socket

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("new socket:", sock.gettimeout(), sock.getblocking())  # (1)
#> new socket: None True

sock.settimeout(0.0)  # (2)
print("settimeout(0.0):", sock.gettimeout(), sock.getblocking())
#> settimeout(0.0): 0.0 False

sock.settimeout(2.5)  # (3)
print("settimeout(2.5):", sock.gettimeout(), sock.getblocking())
#> settimeout(2.5): 2.5 True

sock.setblocking(False)  # (4)
print("setblocking(False):", sock.gettimeout(), sock.getblocking())
#> setblocking(False): 0.0 False

sock.setblocking(True)  # (5)
print("setblocking(True):", sock.gettimeout(), sock.getblocking())
#> setblocking(True): None True

sock.close()
