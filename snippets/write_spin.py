import selectors
import socket
import time

SECONDS = 0.5
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
CASES = {"EVENT_WRITE kept": READ | WRITE, "EVENT_WRITE dropped": READ}


def watch(sel, sock, events):
    sel.register(sock, events)
    wakeups = 0
    wall, cpu = time.perf_counter(), time.process_time()
    deadline = time.monotonic() + SECONDS
    while (remaining := deadline - time.monotonic()) > 0:
        if sel.select(timeout=remaining):  # (1)
            wakeups += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sel.unregister(sock)
    return wakeups, cpu, wall


left, right = socket.socketpair()  # (2)
with left, right, selectors.DefaultSelector() as sel:
    right.setblocking(False)
    for label, events in CASES.items():  # (3)
        wakeups, cpu, wall = watch(sel, right, events)
        print(f"{label}: {wakeups:,} wake-ups, {cpu:.2f} s of CPU in {wall:.2f} s")
