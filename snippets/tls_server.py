"""TLS companion server: greets every client over TLS, then echoes.

Run it in its own terminal before any TLS client snippet:

    python snippets/tls_server.py --cert server.pem --key server.key   # 127.0.0.1:8443

For each connection it completes the TLS handshake (3 s at most), sends
one greeting line, then sends back whatever it receives until the client
closes its side. Ctrl-C (or SIGTERM) stops it and closes every connection.
"""

import argparse
import asyncio
import contextlib
import functools
import itertools
import logging
import signal
import ssl
import sys

GREETING = b"hello from tls_server.py\n"
CHUNK = 4096
HANDSHAKE_TIMEOUT = 3  # (1)


def why(exc):
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)  # (2)
    if isinstance(exc, TimeoutError):
        return f"no handshake within {HANDSHAKE_TIMEOUT} s"
    return type(exc).__name__


async def serve_client(reader, writer, number, context):
    print(f"client {number} connected")
    try:
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                await writer.start_tls(context)  # (3)
        except OSError as exc:  # (4)
            print(f"client {number}: TLS handshake failed: {why(exc)}", file=sys.stderr)
            return
        await echo(reader, writer)
    finally:
        print(f"client {number} closed")


async def echo(reader, writer):
    try:
        writer.write(GREETING)
        await writer.drain()
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()  # (5)


@functools.cache
def log_once(line):
    print(line, file=sys.stderr)


def report(loop, context):
    log_once(f"{context['message']}: {context.get('exception')}")


async def main(host, port, context):
    clients = {}
    count = itertools.count(1)

    def on_connect(reader, writer):
        task = asyncio.create_task(serve_client(reader, writer, next(count), context))
        clients[writer] = task
        task.add_done_callback(lambda _: clients.pop(writer))

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(report)
    log = logging.getLogger("asyncio")
    log.addFilter(lambda record: "eof_received()" not in record.getMessage())  # (6)
    server = await asyncio.start_server(on_connect, host, port)  # (7)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port} (TLS), Ctrl-C stops")
    try:
        await stop.wait()
    finally:
        loop.set_exception_handler(lambda loop, context: None)
        server.close()
        for writer, task in clients.items():
            writer.transport.abort()  # (8)
            task.cancel()
        await asyncio.gather(*clients.values(), return_exceptions=True)
    print("server stopped")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8443, help="0 picks a free port")
    parser.add_argument("--cert", required=True, help="the server's certificate (PEM)")
    parser.add_argument("--key", required=True, help="its private key (PEM)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # (9)
    try:
        context.load_cert_chain(args.cert, args.key)
    except ssl.SSLError as exc:  # (10)
        reason = exc.reason or "not a PEM certificate and its key"
        sys.exit(f"cannot use --cert {args.cert} --key {args.key}: {reason}")
    except OSError as exc:
        sys.exit(f"cannot read --cert {args.cert} --key {args.key}: {exc.strerror}")
    try:
        asyncio.run(main(args.host, args.port, context))
    except KeyboardInterrupt:
        print("server stopped")
    except OSError as exc:
        reason = (exc.strerror or str(exc)).rpartition(": ")[2].capitalize()
        raise SystemExit(f"cannot listen on {args.host}:{args.port}: {reason}") from None
