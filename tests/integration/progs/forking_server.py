#!/usr/bin/python3
"""socketserver.ForkingTCPServer with a StreamRequestHandler: a child
process per client, reading lines from rfile and writing them upper-cased
to wfile (the socketserver documentation's example, for every line).

    forking_server.py HOST PORT

Runs until it is killed.
"""
import socketserver
import sys


class UpperHandler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line.upper())


class Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True


if __name__ == "__main__":
    with Server((sys.argv[1], int(sys.argv[2])), UpperHandler) as server:
        print(f"serving on {server.server_address}", flush=True)
        server.serve_forever()
