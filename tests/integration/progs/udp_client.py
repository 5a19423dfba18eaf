#!/usr/bin/python3
"""UDP client: one datagram out, its answer back, with a time-out and a
few tries, as UDP clients are written.

    udp_client.py HOST PORT INFILE OUTFILE

Sends the contents of INFILE as one datagram and writes the answer to
OUTFILE. Tries 3 times, 2 s apart; exit 1 when nothing came back.
"""
import socket
import sys

HOST, PORT = sys.argv[1], int(sys.argv[2])
with open(sys.argv[3], "rb") as f:
    message = f.read()

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.settimeout(2.0)
    for attempt in range(1, 4):
        s.sendto(message, (HOST, PORT))
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            print(f"try {attempt}: no answer in 2 s", flush=True)
            continue
        with open(sys.argv[4], "wb") as out:
            out.write(data)
        print(f"sent {len(message)} bytes, got {len(data)} from {addr}", flush=True)
        sys.exit(0)
sys.exit(1)
