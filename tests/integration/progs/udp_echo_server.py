#!/usr/bin/python3
"""UDP echo server: recvfrom, sendto, the textbook loop.

    udp_echo_server.py HOST PORT [DATAGRAMS]

Sends every datagram back to where it came from; exits after DATAGRAMS
of them (default 1).
"""
import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
DATAGRAMS = int(sys.argv[3]) if len(sys.argv) > 3 else 1

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind((HOST, PORT))
    print(f"listening on {HOST}:{PORT}", flush=True)
    for _ in range(DATAGRAMS):
        data, addr = s.recvfrom(65535)
        print(f"{len(data)} bytes from {addr}", flush=True)
        s.sendto(data, addr)
