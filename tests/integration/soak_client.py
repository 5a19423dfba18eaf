#!/usr/bin/env python3
"""tests/integration/soak_client.py - the traffic of make soak (issue 10).

Runs in the soak's namespace on the kernel's sockets against a running
tapstack's services until a deadline, in threads:
  echo     TCP port 7: connect, send a random 1..256 KiB while reading the
           echo back, half-close, read to EOF, compare SHA-256, close;
  discard  TCP port 9: send a random 1..256 KiB, half-close, read to EOF;
           its bytes are counted so the caller can match tcp rx_bytes;
  chargen  TCP port 19: read a random 1..256 KiB and check it against the
           RFC 864 pattern (72 printable characters then CRLF, each
           character the next printable one, each line one later), close;
  udp      UDP port 7: datagrams of 1..1,400 bytes and, one in eight,
           4,000..8,000 bytes (IP fragments both ways), each tagged with a
           sequence number; a reply must equal what was sent; lost ones
           (the fault injector drops frames) are counted, not errors.
Each TCP operation is bounded by --op-timeout seconds. Every --report
seconds and at the end the totals go to --out (written to a temporary
file, then renamed) as key=value lines. Exit 0; the caller judges.
"""
import argparse
import hashlib
import os
import random
import socket
import threading
import time

PRINTABLE = 95


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.v = {}

    def add(self, key, n=1):
        with self.lock:
            self.v[key] = self.v.get(key, 0) + n

    def dump(self, path):
        with self.lock:
            lines = ["%s=%d\n" % kv for kv in sorted(self.v.items())]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.replace(tmp, path)


def tcp_connect(dst, port, timeout):
    s = socket.create_connection((dst, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_to_eof(s, limit=None):
    chunks, n = [], 0
    while limit is None or n < limit:
        b = s.recv(65536 if limit is None else min(65536, limit - n))
        if not b:
            break
        chunks.append(b)
        n += len(b)
    return b"".join(chunks)


def echo_once(a, rnd, st):
    data = rnd.randbytes(rnd.randint(1024, 256 * 1024))
    s = tcp_connect(a.dst, 7, a.op_timeout)
    try:
        err = []

        def send():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)
        t = threading.Thread(target=send, daemon=True)
        t.start()
        got = read_to_eof(s)
        t.join(a.op_timeout)
        if err or t.is_alive():
            raise OSError("echo send failed: %s" % (err or "timeout"))
    finally:
        s.close()
    if hashlib.sha256(got).digest() != hashlib.sha256(data).digest():
        st.add("echo_corrupt")
        return
    st.add("echo_ok")
    st.add("echo_bytes", len(data))


def discard_once(a, rnd, st):
    data = rnd.randbytes(rnd.randint(1024, 256 * 1024))
    s = tcp_connect(a.dst, 9, a.op_timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        if read_to_eof(s):
            st.add("discard_corrupt")     # discard never answers
            return
    finally:
        s.close()
    st.add("discard_ok")
    st.add("discard_bytes", len(data))


def chargen_ok(data):
    """Is data a piece of the RFC 864 stream from the start of a line?"""
    first = data[0] - 32
    if not 0 <= first < PRINTABLE:
        return False
    period = bytearray()
    for line in range(PRINTABLE):
        period += bytes(32 + (first + line + c) % PRINTABLE for c in range(72))
        period += b"\r\n"
    reps = len(data) // len(period) + 1
    return data == (bytes(period) * reps)[:len(data)]


def chargen_once(a, rnd, st):
    n = rnd.randint(1024, 256 * 1024)
    s = tcp_connect(a.dst, 19, a.op_timeout)
    try:
        got = read_to_eof(s, n)
    finally:
        s.close()
    if len(got) != n:
        raise OSError("chargen: %d of %d bytes" % (len(got), n))
    if not chargen_ok(got):
        st.add("chargen_corrupt")
        return
    st.add("chargen_ok")
    st.add("chargen_bytes", n)


def tcp_worker(a, name, fn, seed, st):
    rnd = random.Random(seed)
    while time.time() < a.until:
        try:
            fn(a, rnd, st)
        except OSError:
            st.add(name + "_error")


def udp_worker(a, seed, st):
    rnd = random.Random(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    seq = 0
    while time.time() < a.until:
        seq += 1
        big = rnd.randrange(8) == 0
        size = rnd.randint(4000, 8000) if big else rnd.randint(1, 1400)
        data = seq.to_bytes(8, "big") + rnd.randbytes(size)
        s.sendto(data, (a.dst, 7))
        st.add("udp_sent")
        end = time.time() + 0.5
        while time.time() < end:
            try:
                got = s.recv(65536)
            except OSError:
                break
            if got[:8] != data[:8]:
                st.add("udp_late")        # the reply to an earlier one
                continue
            st.add("udp_ok" if got == data else "udp_corrupt")
            if big:
                st.add("udp_frag_ok")
            break
        else:
            st.add("udp_lost")
    s.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dst", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--echo", type=int, default=3, help="echo threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--op-timeout", type=float, default=60)
    p.add_argument("--report", type=float, default=2)
    a = p.parse_args()
    a.until = time.time() + a.seconds
    st = Stats()
    threads = [threading.Thread(target=tcp_worker, daemon=True,
                                args=(a, "echo", echo_once, a.seed + i, st))
               for i in range(a.echo)]
    threads.append(threading.Thread(target=tcp_worker, daemon=True, args=(
        a, "discard", discard_once, a.seed + 100, st)))
    threads.append(threading.Thread(target=tcp_worker, daemon=True, args=(
        a, "chargen", chargen_once, a.seed + 200, st)))
    threads.append(threading.Thread(target=udp_worker, daemon=True,
                                    args=(a, a.seed + 300, st)))
    for t in threads:
        t.start()
    # Each worker stops at the deadline, a TCP operation at most
    # --op-timeout later; never wait longer than that.
    hard = a.until + a.op_timeout + 5
    while any(t.is_alive() for t in threads) and time.time() < hard:
        st.dump(a.out)
        time.sleep(a.report)
    st.add("unfinished", sum(t.is_alive() for t in threads))
    st.dump(a.out)


if __name__ == "__main__":
    main()
