#!/usr/bin/python3
"""socketserver.ThreadingTCPServer echo server (one thread per client).

    threading_server.py HOST PORT

Runs until it is killed.
"""
import socketserver
import sys


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                break
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64     # 50 clients connect at once


if __name__ == "__main__":
    with Server((sys.argv[1], int(sys.argv[2])), EchoHandler) as server:
        print(f"serving on {server.server_address}", flush=True)
        server.serve_forever()
