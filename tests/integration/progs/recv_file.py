#!/usr/bin/python3
"""Receive one connection into a file.

    recv_file.py HOST PORT OUTFILE [PIDFILE]

Listens, accepts one client, writes everything it sends until it closes
to OUTFILE. Writes its process ID to PIDFILE (so a test can kill exactly
this process). Exit 3 when the connection was reset.
"""
import os
import socket
import sys

HOST, PORT, OUTFILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if len(sys.argv) > 4:
    with open(sys.argv[4], "w") as f:
        f.write(f"{os.getpid()}\n")

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, PORT))
    s.listen(1)
    print(f"listening on {HOST}:{PORT}", flush=True)
    conn, addr = s.accept()
    received = 0
    with conn, open(OUTFILE, "wb") as out:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                out.write(data)
                received += len(data)
        except ConnectionResetError as e:
            print(f"reset after {received} bytes: {e}", flush=True)
            sys.exit(3)
print(f"received {received} bytes from {addr}", flush=True)
