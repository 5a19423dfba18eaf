#!/usr/bin/python3
"""Send a file in chunks with a pause after each, so that the transfer
takes a while; print progress after every MiB.

    send_paced.py HOST PORT FILE CHUNK PAUSE_MS

FILE may be endless (/dev/zero): then it sends until the connection
breaks. Exit 0 after the whole file (and the close), 3 when the peer
reset the connection (ConnectionResetError or BrokenPipeError).
"""
import socket
import sys
import time

HOST, PORT, FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
CHUNK, PAUSE = int(sys.argv[4]), int(sys.argv[5]) / 1000

sent = 0
next_report = 1 << 20
try:
    with socket.create_connection((HOST, PORT)) as s, open(FILE, "rb") as f:
        while chunk := f.read(CHUNK):
            s.sendall(chunk)
            sent += len(chunk)
            if sent >= next_report:
                print(f"progress {sent}", flush=True)
                next_report += 1 << 20
            time.sleep(PAUSE)
except (ConnectionResetError, BrokenPipeError) as e:
    print(f"reset after {sent} bytes: {type(e).__name__}: {e}", flush=True)
    sys.exit(3)
print(f"done {sent}", flush=True)
