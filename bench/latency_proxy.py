"""A TCP proxy on 127.0.0.1 that holds every byte the upstream sends for a fixed delay.

    .venv/bin/python bench/latency_proxy.py --listen 8081 --upstream 8080 --delay-ms 20

Used by bench/run.py (e) to put a local FHIR server at the distance a hospital's
FHIR server is from the service: each response reaches the service `--delay-ms`
after the server sent it, while the server's own work is unchanged. Requests pass
through at once; the delay costs no CPU (a timer per chunk), so queries sent
together wait out their delays together, as they would on a network.

Only for the benchmark: binds 127.0.0.1, forwards to 127.0.0.1, no TLS.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

HOST = "127.0.0.1"
CHUNK = 65536


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(CHUNK):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def pipe_delayed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Forward each chunk `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    async def receive():
        try:
            while chunk := await reader.read(CHUNK):
                queue.put_nowait((loop.time() + delay, chunk))
        except ConnectionError:
            pass
        queue.put_nowait((loop.time() + delay, b""))

    async def send():
        try:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    return
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    await asyncio.gather(receive(), send())


async def serve(listen: int, upstream: int, delay: float) -> None:
    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(HOST, upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer),
                             pipe_delayed(server_reader, client_writer, delay))

    server = await asyncio.start_server(handle, HOST, listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument("--upstream", type=int, required=True, help="port of the server on 127.0.0.1")
    parser.add_argument("--delay-ms", type=float, required=True, help="delay added to every response")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, args.upstream, args.delay_ms / 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
