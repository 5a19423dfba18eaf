#!/usr/bin/python3
"""A connection to a port where nobody listens raises ConnectionRefusedError.

    connect_refused.py HOST PORT
"""
import socket
import sys

try:
    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5):
        print("connected, but nobody should listen there")
        sys.exit(1)
except ConnectionRefusedError as e:
    print(f"ConnectionRefusedError: {e}")
    sys.exit(0)
except OSError as e:
    print(f"{type(e).__name__}: {e}")
    sys.exit(1)
