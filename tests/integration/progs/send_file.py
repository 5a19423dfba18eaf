#!/usr/bin/python3
"""Send a file with socket.sendfile (os.sendfile underneath).

    send_file.py HOST PORT FILE
"""
import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as s:
    with open(sys.argv[3], "rb") as f:
        sent = s.sendfile(f)
print(f"sendfile sent {sent} bytes", flush=True)
