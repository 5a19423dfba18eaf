#!/usr/bin/python3
"""TCP echo client, as in the Python documentation's socket example, for
a whole file instead of one line.

    tcp_echo_client.py HOST PORT INFILE OUTFILE

Connects, sends INFILE (from a second thread, so that a large file cannot
fill both directions' buffers while nobody reads), half-closes, and writes
everything it receives until the server closes to OUTFILE.
"""
import socket
import sys
import threading

HOST, PORT = sys.argv[1], int(sys.argv[2])
INFILE, OUTFILE = sys.argv[3], sys.argv[4]


def send_all(sock, path):
    with open(path, "rb") as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            sock.sendall(chunk)
    sock.shutdown(socket.SHUT_WR)


with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect((HOST, PORT))
    sender = threading.Thread(target=send_all, args=(s, INFILE))
    sender.start()
    received = 0
    with open(OUTFILE, "wb") as out:
        while True:
            data = s.recv(65536)
            if not data:
                break
            out.write(data)
            received += len(data)
    sender.join()
print(f"received {received} bytes", flush=True)
