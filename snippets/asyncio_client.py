import asyncio
import os
import sys

TIMEOUT = 3


async def main():
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", 8080), TIMEOUT
    )
    try:
        sock = writer.get_extra_info("socket")
        if os.name == "posix":  # (1)
            print("blocking:", os.get_blocking(sock.fileno()))
            #> blocking: False
        greeting = await asyncio.wait_for(reader.readline(), TIMEOUT)  # (2)
        if not greeting.endswith(b"\n"):  # (3)
            raise ConnectionError
        print(greeting)
        #> b'hello from server.py\n'
    finally:
        writer.close()
        await writer.wait_closed()


try:
    asyncio.run(main())
except ConnectionRefusedError:  # (4)
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8080 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8080 within {TIMEOUT} s")
