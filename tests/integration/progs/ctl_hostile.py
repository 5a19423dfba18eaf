#!/usr/bin/python3
"""A hostile client of tapstack's control socket (AF_UNIX SOCK_SEQPACKET):
the wire format of socket_api/ts_ctl_proto.h, spoken wrong on purpose.

    ctl_hostile.py NAME CASE

NAME is the socket: "@name" for an abstract one, else a path. CASE:
  valid        a well-formed TS_OP_SOCKET (AF_INET, SOCK_STREAM): must be
               answered rc 0 with one descriptor (proves the client speaks
               the protocol, so the refusals below mean something)
  garbage      312 random bytes (the size of a request, no magic)
  truncated    the first 40 bytes of a valid request
  oversized    a valid request followed by garbage, 8,192 bytes in all
  bad-version  the right magic, version 99
  bad-op       the right magic and version, op 0x7777
  bad-addrlen  TS_OP_BIND on a socket of ours with addrlen 4096
  bad-optlen   TS_OP_SETOPT on a socket of ours with optlen 0xffffffff
  bad-getopt   TS_OP_GETOPT on a socket of ours, caller's size -1
  fds-50       TS_OP_IDENTIFY carrying 50 descriptors (at most 32 allowed)
  half-vanish  half a request, then close without reading the answer
  other-user   the valid request, from a user who is neither root nor the
               stack's owner (run it under setpriv or runuser): must not
               get a socket
Prints one line "CASE: OUTCOME". Outcomes: "answered rc=N fds=K",
"closed" (EOF or reset: the host dropped us), "refused" (connect failed),
"no answer" (nothing within 3 s), "sent" (half-vanish). Exit 0 when a
valid request succeeded or a hostile one was refused, closed or answered
with a negative rc; 1 otherwise.
"""
import array
import os
import socket
import struct
import sys

MAGIC, VERSION = 0x31435354, 1
OP_SOCKET, OP_BIND, OP_SETOPT, OP_GETOPT, OP_IDENTIFY = 1, 2, 6, 7, 9
REQ = struct.Struct("=IHH3iI28sI256s")     # struct ts_ctl_req, 312 bytes
REP = struct.Struct("=Ii3iI28sI256s")      # struct ts_ctl_rep, 312 bytes


def req(op, args=(0, 0, 0), addrlen=0, addr=b"", optlen=0, opt=b"", magic=MAGIC, version=VERSION):
    return REQ.pack(magic, version, op, *args, addrlen, addr, optlen, opt)


def connect(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect("\0" + name[1:] if name.startswith("@") else name)
    return s


def send(s, data, fds=()):
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    s.sendmsg([data], anc)


def answer(s):
    """(outcome text, rc or None, list of descriptors received)."""
    try:
        msg, anc, flags, _ = s.recvmsg(4096, socket.CMSG_SPACE(64 * 4))
    except socket.timeout:
        return "no answer", None, []
    except (ConnectionResetError, BrokenPipeError):
        return "closed", None, []
    fds = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(data[:len(data) - len(data) % a.itemsize])
            fds += list(a)
    if not msg:
        return "closed", None, fds
    if len(msg) != REP.size:
        return f"answered {len(msg)} bytes (not a reply)", None, fds
    magic, rc = REP.unpack(msg)[:2]
    if magic != MAGIC:
        return f"answered with magic {magic:#x}", None, fds
    return f"answered rc={rc} fds={len(fds)}", rc, fds


def new_socket(name):
    """A stack socket of our own: (control connection, its descriptor)."""
    s = connect(name)
    send(s, req(OP_SOCKET, (socket.AF_INET, socket.SOCK_STREAM, 0)))
    text, rc, fds = answer(s)
    if rc != 0 or len(fds) != 1:
        sys.exit(f"setup: TS_OP_SOCKET {text}")
    return s, fds[0]


def run(name, case):
    if case == "valid":
        s, fd = new_socket(name)
        os.close(fd)
        return "answered rc=0 fds=1", True
    valid = req(OP_SOCKET, (socket.AF_INET, socket.SOCK_STREAM, 0))
    fds = []
    s = None
    if case == "other-user":
        data = valid
    elif case == "garbage":
        data = os.urandom(REQ.size)
        if data[:4] == struct.pack("=I", MAGIC):
            data = b"\0" * 4 + data[4:]
    elif case == "truncated":
        data = valid[:40]
    elif case == "oversized":
        data = valid + os.urandom(8192 - len(valid))
    elif case == "bad-version":
        data = req(OP_SOCKET, (socket.AF_INET, socket.SOCK_STREAM, 0), version=99)
    elif case == "bad-op":
        data = req(0x7777)
    elif case in ("bad-addrlen", "bad-optlen", "bad-getopt"):
        s, fd = new_socket(name)
        fds = [fd]
        if case == "bad-addrlen":
            data = req(OP_BIND, addrlen=4096, addr=struct.pack("=HH4s", socket.AF_INET, 0, b"\0" * 4))
        elif case == "bad-optlen":
            data = req(OP_SETOPT, (socket.SOL_SOCKET, socket.SO_REUSEADDR, 0),
                       optlen=0xffffffff, opt=struct.pack("=i", 1))
        else:
            data = req(OP_GETOPT, (socket.SOL_SOCKET, socket.SO_ERROR, -1))
    elif case == "fds-50":
        fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(50)]
        data = req(OP_IDENTIFY)
    elif case == "half-vanish":
        s = connect(name)
        s.send(valid[:REQ.size // 2])
        s.close()
        return "sent", True
    else:
        sys.exit(f"unknown case {case}")
    if s is None:
        s = connect(name)
    send(s, data, fds)
    text, rc, got = answer(s)
    for fd in fds + got:
        os.close(fd)
    s.close()
    refused = text in ("closed",) or (rc is not None and rc < 0)
    return text, refused


def main():
    name, case = sys.argv[1], sys.argv[2]
    try:
        text, good = run(name, case)
    except (ConnectionRefusedError, PermissionError, FileNotFoundError) as e:
        text, good = f"refused ({type(e).__name__})", case != "valid"
    except (ConnectionResetError, BrokenPipeError) as e:
        text, good = f"closed ({type(e).__name__})", case != "valid"
    print(f"{case}: {text}", flush=True)
    sys.exit(0 if good else 1)


main()
