#!/usr/bin/python3
"""TCP_CONGESTION as Linux programs use it.

    congestion.py HOST PORT

Reads a new socket's algorithm, chooses "reno", checks that an unknown
name fails with ENOENT, then connects to an echo server at HOST:PORT and
sends 1 MiB through it in 64 KiB pieces, each read back and compared.
Prints "default NAME" and "ok" (exit 0), or why not (exit 1). Written for
the standard library, not for tapstack: tests/integration/programs.sh
runs it unmodified, on the stack and on the kernel.
"""
import errno
import socket
import sys

HOST = sys.argv[1]
PORT = int(sys.argv[2])


def name(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    return raw.split(b"\0")[0].decode()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("default", name(s), flush=True)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
if name(s) != "reno":
    sys.exit("after setting reno: " + name(s))
try:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"no-such-cc")
    sys.exit("an unknown name was accepted")
except OSError as e:
    if e.errno != errno.ENOENT:
        sys.exit("an unknown name: " + str(e))
s.settimeout(10)
s.connect((HOST, PORT))
if name(s) != "reno":
    sys.exit("connected: " + name(s))
piece = bytes(range(256)) * 256
for i in range(16):
    s.sendall(piece)
    got = b""
    while len(got) < len(piece):
        chunk = s.recv(len(piece) - len(got))
        if not chunk:
            sys.exit("end of stream after %d pieces" % i)
        got += chunk
    if got != piece:
        sys.exit("piece %d differs" % i)
s.close()
print("ok", flush=True)
