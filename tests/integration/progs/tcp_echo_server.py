#!/usr/bin/python3
"""TCP echo server, as in the Python documentation's socket example.

    tcp_echo_server.py HOST PORT [CONNECTIONS]

Serves CONNECTIONS clients one after the other (default 1), sending back
every byte it receives, then exits. Written for the standard library, not
for tapstack: tests/integration/programs.sh runs it unmodified.
"""
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])
CONNECTIONS = int(sys.argv[3]) if len(sys.argv) > 3 else 1

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, PORT))
    s.listen()
    print(f"listening on {HOST}:{PORT}", flush=True)
    for _ in range(CONNECTIONS):
        conn, addr = s.accept()
        with conn:
            print(f"connected by {addr}", flush=True)
            while True:
                data = conn.recv(1024)
                if not data:
                    break
                conn.sendall(data)
