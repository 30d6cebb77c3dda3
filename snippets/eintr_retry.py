import signal
import socket
import threading
import time

handled = threading.Event()


def on_sigusr1(signum, frame):  # (1)
    print("handler: SIGUSR1 arrived while recv() was waiting")
    #> handler: SIGUSR1 arrived while recv() was waiting
    handled.set()


def signal_then_send(main, sock):  # (2)
    time.sleep(0.2)
    signal.pthread_kill(main, signal.SIGUSR1)
    if handled.wait(timeout=3):
        sock.sendall(b"sent after the handler ran")


def press_ctrl_c(main):
    time.sleep(0.2)
    signal.pthread_kill(main, signal.SIGINT)


signal.signal(signal.SIGUSR1, on_sigusr1)
signal.signal(signal.SIGINT, signal.default_int_handler)  # (3)
main = threading.get_ident()
left, right = socket.socketpair()
with left, right:
    right.settimeout(3)  # (4)

    helper = threading.Thread(target=signal_then_send, args=(main, left))
    helper.start()
    print("recv():", right.recv(1024))  # (5)
    #> recv(): b'sent after the handler ran'
    helper.join()

    helper = threading.Thread(target=press_ctrl_c, args=(main,))
    helper.start()
    try:
        right.recv(1024)
    except KeyboardInterrupt:  # (6)
        print("recv() raised KeyboardInterrupt")
        #> recv() raised KeyboardInterrupt
    finally:
        helper.join()
