#!/usr/bin/python3
"""asyncio echo server (asyncio.start_server, streams).

    asyncio_server.py HOST PORT

Runs until it is killed.
"""
import asyncio
import sys


async def handle_echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle_echo, sys.argv[1], int(sys.argv[2]))
    addrs = ", ".join(str(s.getsockname()) for s in server.sockets)
    print(f"serving on {addrs}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
