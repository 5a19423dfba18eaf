#!/usr/bin/python3
"""socket.create_connection with a time-out, three ways.

    connect_timeout.py HOST PORT SILENT_HOST

1. create_connection((HOST, PORT), timeout=3) to an echo server: connects,
   a line goes there and back;
2. on that socket (its time-out now 1 s) a recv with nothing to read
   raises socket.timeout (TimeoutError) after about 1 s;
3. create_connection((SILENT_HOST, PORT), timeout=1) to an address nobody
   answers (not even ARP) raises TimeoutError after about 1 s.
Prints one line per step; exit 0 when all three behaved.
"""
import socket
import sys
import time

HOST, PORT, SILENT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ok = True

with socket.create_connection((HOST, PORT), timeout=3) as s:
    s.sendall(b"hello through create_connection\n")
    line = s.recv(100)
    good = line == b"hello through create_connection\n"
    print(f"1. connected to {HOST}:{PORT}, echo {'ok' if good else repr(line)}")
    ok &= good
    s.settimeout(1)
    t0 = time.monotonic()
    try:
        s.recv(100)
        print("2. recv returned although the server sent nothing")
        ok = False
    except socket.timeout:
        took = time.monotonic() - t0
        print(f"2. recv raised socket.timeout after {took:.2f} s")
        ok &= 0.8 <= took <= 3

t0 = time.monotonic()
try:
    socket.create_connection((SILENT, PORT), timeout=1).close()
    print(f"3. connected to {SILENT}, which should not answer")
    ok = False
except TimeoutError:
    took = time.monotonic() - t0
    print(f"3. create_connection to {SILENT} raised TimeoutError after {took:.2f} s")
    ok &= 0.8 <= took <= 3
except OSError as e:
    print(f"3. create_connection to {SILENT} raised {type(e).__name__}: {e}")
    ok = False
sys.stdout.flush()
sys.exit(0 if ok else 1)
