#!/usr/bin/python3
"""asyncio echo client: N connections at once (asyncio.gather), each
sending BYTES bytes of its own, half-closing, reading the echo to the end.

    asyncio_client.py HOST PORT CONNECTIONS BYTES

Exit 0 only when every connection got exactly its own bytes back.
"""
import asyncio
import os
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
CONNECTIONS, BYTES = int(sys.argv[3]), int(sys.argv[4])


async def echo(i):
    payload = os.urandom(BYTES)
    reader, writer = await asyncio.open_connection(HOST, PORT)

    async def send():
        for off in range(0, len(payload), 16384):
            writer.write(payload[off:off + 16384])
            await writer.drain()
        writer.write_eof()

    sending = asyncio.create_task(send())
    got = await reader.read()       # to the end
    await sending
    writer.close()
    await writer.wait_closed()
    return "ok" if got == payload else f"connection {i}: {len(got)} bytes, not the same"


async def main():
    results = await asyncio.wait_for(
        asyncio.gather(*(echo(i) for i in range(CONNECTIONS)), return_exceptions=True), 60)
    good = 0
    for i, r in enumerate(results):
        if r == "ok":
            good += 1
        else:
            print(f"connection {i}: {r!r}")
    print(f"{good} of {CONNECTIONS} connections got their {BYTES} bytes back intact", flush=True)
    return good == CONNECTIONS


sys.exit(0 if asyncio.run(main()) else 1)
