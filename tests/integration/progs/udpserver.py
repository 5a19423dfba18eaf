#!/usr/bin/python3
"""socketserver.UDPServer answering each datagram upper-cased (the
socketserver documentation's example).

    udpserver.py HOST PORT

Runs until it is killed.
"""
import socketserver
import sys


class UpperHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data.upper(), self.client_address)


if __name__ == "__main__":
    with socketserver.UDPServer((sys.argv[1], int(sys.argv[2])), UpperHandler) as server:
        print(f"serving on {server.server_address}", flush=True)
        server.serve_forever()
