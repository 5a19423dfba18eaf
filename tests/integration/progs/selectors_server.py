#!/usr/bin/python3
"""Echo server on the selectors module (DefaultSelector: epoll on Linux),
the Python documentation's example made complete: non-blocking sockets, a
buffer per connection for what send() could not take yet, and EVENT_WRITE
interest only while that buffer holds something.

    selectors_server.py HOST PORT

Runs until it is killed.
"""
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
pending = {}                    # conn -> bytes not yet sent


def accept(sock):
    conn, addr = sock.accept()
    conn.setblocking(False)
    pending[conn] = b""
    sel.register(conn, selectors.EVENT_READ, serve)


def serve(conn, mask):
    if mask & selectors.EVENT_READ:
        data = conn.recv(65536)
        if not data:
            sel.unregister(conn)
            conn.close()
            del pending[conn]
            return
        pending[conn] += data
    if pending[conn]:
        try:
            sent = conn.send(pending[conn])
        except BlockingIOError:
            sent = 0
        pending[conn] = pending[conn][sent:]
    want = selectors.EVENT_READ
    if pending[conn]:
        want = selectors.EVENT_WRITE    # stop reading until it drained
    sel.modify(conn, want, serve)


sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((sys.argv[1], int(sys.argv[2])))
sock.listen(100)
sock.setblocking(False)
sel.register(sock, selectors.EVENT_READ, accept)
print(f"listening on {sys.argv[1]}:{sys.argv[2]} with {type(sel).__name__}", flush=True)
while True:
    for key, mask in sel.select():
        if key.data is accept:
            accept(key.fileobj)
        else:
            serve(key.fileobj, mask)
