#!/usr/bin/python3
"""N echo clients at once, each in its own thread.

    many_clients.py HOST PORT CLIENTS BYTES

Every client waits at a barrier, connects with socket.create_connection,
sends BYTES bytes of its own (a sending thread) and half-closes, reads the
echo to the end and compares. Exit 0 only when every client got exactly
its own bytes back.
"""
import hashlib
import os
import socket
import sys
import threading

HOST, PORT = sys.argv[1], int(sys.argv[2])
CLIENTS, BYTES = int(sys.argv[3]), int(sys.argv[4])
barrier = threading.Barrier(CLIENTS)
results = [None] * CLIENTS


def client(i):
    payload = os.urandom(BYTES)
    try:
        barrier.wait(timeout=10)
        with socket.create_connection((HOST, PORT), timeout=30) as s:
            def send():
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
            sender = threading.Thread(target=send)
            sender.start()
            got = bytearray()
            while True:
                data = s.recv(65536)
                if not data:
                    break
                got += data
            sender.join()
        same = hashlib.sha256(got).digest() == hashlib.sha256(payload).digest()
        results[i] = "ok" if same else f"{len(got)} bytes, not the same"
    except Exception as e:          # report every client, whatever happened
        results[i] = f"{type(e).__name__}: {e}"


threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
good = results.count("ok")
for i, r in enumerate(results):
    if r != "ok":
        print(f"client {i}: {r}")
print(f"{good} of {CLIENTS} clients got their {BYTES} bytes back intact", flush=True)
sys.exit(0 if good == CLIENTS else 1)
