import selectors
import socket

left, right = socket.socketpair()  # (1)
with left, right, selectors.DefaultSelector() as sel:
    right.setblocking(False)
    sel.register(right, selectors.EVENT_READ)
    left.sendall(b"ping")

    for call in (1, 2, 3):
        ready = sel.select(timeout=3)  # (2)
        print(f"select() #{call}: readable={bool(ready)}")
        #> select() #1: readable=True
        #> select() #2: readable=True
        #> select() #3: readable=True

    print("recv(2):", right.recv(2))  # (3)
    #> recv(2): b'pi'
    print("still readable:", bool(sel.select(timeout=0)))
    #> still readable: True
    print("recv(2):", right.recv(2))
    #> recv(2): b'ng'
    print("readable now:", bool(sel.select(timeout=0)))  # (4)
    #> readable now: False
