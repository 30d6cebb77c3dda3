import asyncio
import ssl
import sys

TIMEOUT = 3


async def read_line(reader):
    line = await asyncio.wait_for(reader.readline(), TIMEOUT)  # (1)
    if not line.endswith(b"\n"):
        raise ConnectionError
    return line


async def main():
    context = ssl.create_default_context()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            "127.0.0.1", 8443, ssl=context, ssl_shutdown_timeout=TIMEOUT  # (2)
        ),
        TIMEOUT,
    )
    try:
        print(await read_line(reader))
        #> b'hello from tls_server.py\n'
        for word in (b"one", b"two", b"three"):
            writer.write(word + b"\n")
            print(await read_line(reader))
            #> b'one\n'
            #> b'two\n'
            #> b'three\n'
    except BaseException:
        writer.transport.abort()  # (3)
        raise
    finally:
        writer.close()
        await writer.wait_closed()  # (4)


try:
    asyncio.run(main())
except ConnectionRefusedError:
    sys.exit("ConnectionRefusedError: nothing listens on 127.0.0.1:8443. Start the server "
             "first: python snippets/tls_server.py --cert server.pem --key server.key")
except ssl.SSLCertVerificationError as exc:
    sys.exit(f"SSLCertVerificationError: certificate verify failed: {exc.verify_message}")
except ssl.SSLError as exc:
    sys.exit(f"SSLError: no TLS with 127.0.0.1:8443: {exc.reason}")
except ConnectionError as exc:
    sys.exit(f"{type(exc).__name__}: 127.0.0.1:8443 dropped the connection")
except TimeoutError:
    sys.exit(f"TimeoutError: no answer from 127.0.0.1:8443 within {TIMEOUT} s")
