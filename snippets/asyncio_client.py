import asyncio
import sys


async def main():
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", 8080), timeout=5
    )
    sock = writer.get_extra_info("socket")
    print("timeout:", sock.gettimeout())  # (1)
    #> timeout: 0
    greeting = await asyncio.wait_for(reader.readline(), timeout=5)  # (2)
    print(greeting)
    #> b'hello from server.py\n'
    writer.close()
    await writer.wait_closed()


try:
    asyncio.run(main())
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8080. "
             "Start the server first: python snippets/server.py")
