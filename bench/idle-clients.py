#!/usr/bin/env python3
"""Open N HTTP/1.1 keep-alive connections, send one GET on each, read the whole response, then
hold them all open and idle until standard input ends or a line arrives; then close them.

bench/conn-mem.sh uses it to measure a proxy's memory per idle client connection. Standard
library only (no internet on the benchmark machine). Prints "READY <n>" on standard output once
every connection has had its 200 response, or "FAILED <reason>" and exits 1.

    python3 bench/idle-clients.py <port> <n> [path] [batch]
"""
import asyncio
import sys

HOST = "127.0.0.1"  # loopback only, as every bench script


async def read_response(reader):
    """Reads one response with a Content-Length body; returns its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("response without Content-Length: " + lines[0].decode(errors="replace"))
    await reader.readexactly(length)
    return status


async def open_one(port, request):
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(request)
    await writer.drain()
    status = await read_response(reader)
    if status != 200:
        raise ValueError(f"status {status}")
    return writer


async def main(port, n, path, batch):
    request = f"GET {path} HTTP/1.1\r\nHost: bench.test\r\n\r\n".encode()
    writers = []
    try:
        # In batches: n simultaneous connects would overflow the listen backlog of some proxies.
        for start in range(0, n, batch):
            size = min(batch, n - start)
            writers += await asyncio.gather(*(open_one(port, request) for _ in range(size)))
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        print(f"FAILED after {len(writers)} connections: {e!r}", flush=True)
        sys.exit(1)
    print(f"READY {len(writers)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for writer in writers:
        writer.close()


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    asyncio.run(main(int(args[0]), int(args[1]), args[2] if len(args) > 2 else "/small",
                     int(args[3]) if len(args) > 3 else 200))
