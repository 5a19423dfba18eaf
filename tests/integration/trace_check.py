#!/usr/bin/env python3
"""tests/integration/trace_check.py - check a tapstack --trace file.

  trace_check.py schema TRACE
      every line is one JSON object of the trace's schema (README "Trace");
      a trace_truncated line, if any, is the last
  trace_check.py frames TRACE PCAP STACK_IP
      every frame number the trace names is a frame of PCAP (tshark), a
      frame_in came from the peer and a frame_out from the stack; for a
      TCP event the frame carries the connection's ports; a state change
      names frames with the flags that make it (a SYN into SYN-RECEIVED,
      a FIN into CLOSE-WAIT...); a retransmission's frame_out is the
      segment it says (seq, len) and was sent before with that sequence
      number; its cause agrees with its frame_in (rto: none, a timer;
      dupack/sack: an ACK from the peer, with SACK blocks for sack; the
      go-back-N resends that follow a time-out, clocked by ACKs, keep the
      cause rto)
  trace_check.py states TRACE PORT
      the state changes of the connections to local PORT, "OLD->NEW" per
      line, in order
  trace_check.py causes TRACE
      "CAUSE COUNT" per line for the retransmissions

Prints "ok"/"FAIL: ..." lines; exit 1 on any failure. python3 json only,
and tshark for `frames`.
"""
import json
import subprocess
import sys

LAYERS = {"eth", "arp", "ipv4", "icmp", "udp", "tcp", "sock"}
STATES = {"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
          "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
          "TIME-WAIT"}
CAUSES = {"rto", "dupack", "sack", "dup_syn"}
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
# The flags the frame that caused a state change must carry.
STATE_IN = {
    ("LISTEN", "SYN-RECEIVED"): SYN,
    ("SYN-SENT", "ESTABLISHED"): SYN | ACK,
    ("SYN-RECEIVED", "ESTABLISHED"): ACK,
    ("ESTABLISHED", "CLOSE-WAIT"): FIN,
    ("FIN-WAIT-1", "FIN-WAIT-2"): ACK,
    ("FIN-WAIT-2", "TIME-WAIT"): FIN,
    ("FIN-WAIT-1", "CLOSING"): FIN,
    ("FIN-WAIT-1", "TIME-WAIT"): FIN,
    ("CLOSING", "TIME-WAIT"): ACK,
    ("LAST-ACK", "CLOSED"): ACK,
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line]


def endpoint_ok(s):
    host, _, port = s.rpartition(":")
    parts = host.split(".")
    return (len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts)
            and port.isdigit() and int(port) < 65536)


def schema_errors(o):
    """What is wrong with one parsed line (a list of strings)."""
    errs = []
    if not isinstance(o, dict):
        return ["not an object"]
    if not isinstance(o.get("t_us"), int) or o["t_us"] < 0:
        errs.append("t_us not a non-negative integer")
    if o.get("layer") not in LAYERS:
        errs.append("layer %r" % o.get("layer"))
    if not isinstance(o.get("ev"), str) or not o["ev"]:
        errs.append("ev missing")
    if o.get("ev") == "trace_truncated":
        return errs
    c = o.get("conn")
    if c is not None:
        if not (isinstance(c, dict) and isinstance(c.get("id"), int) and
                endpoint_ok(str(c.get("local"))) and
                endpoint_ok(str(c.get("remote")))):
            errs.append("conn %r" % c)
    ch = o.get("changed", {})
    if not isinstance(ch, dict) or not all(
            isinstance(v, list) and len(v) == 2 for v in ch.values()):
        errs.append("changed %r" % ch)
    if "state" in ch and not set(ch["state"]) <= STATES:
        errs.append("state names %r" % ch["state"])
    for k in ("reason", "rfc", "text"):
        if k in o and not isinstance(o[k], str):
            errs.append("%s not a string" % k)
    if "frame_in" in o and (not isinstance(o["frame_in"], int) or o["frame_in"] < 1):
        errs.append("frame_in %r" % o.get("frame_in"))
    fo = o.get("frame_out")
    if not isinstance(fo, list) or not all(isinstance(n, int) and n >= 1 for n in fo):
        errs.append("frame_out %r" % fo)
    if o.get("ev") == "retransmit":
        if o.get("cause") not in CAUSES:
            errs.append("retransmit cause %r" % o.get("cause"))
        if not isinstance(o.get("seq"), int) or not isinstance(o.get("len"), int):
            errs.append("retransmit without seq/len")
        if "conn" not in o:
            errs.append("retransmit without conn")
    if o.get("ev") == "state" and "state" not in ch:
        errs.append("state event without changed.state")
    return errs


def cmd_schema(path):
    lines = load(path)
    bad = 0
    for i, line in enumerate(lines, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            print("FAIL: line %d is not JSON: %s" % (i, e))
            bad += 1
            continue
        errs = schema_errors(o)
        if o.get("ev") == "trace_truncated" and i != len(lines):
            errs.append("trace_truncated is not the last line")
        for e in errs:
            print("FAIL: line %d: %s: %s" % (i, e, line[:200]))
        bad += bool(errs)
    print("%s: %d lines, %d bad" % ("ok" if not bad else "FAIL", len(lines), bad))
    return 1 if bad or not lines else 0


def frames_of(pcap):
    """frame number -> dict of the fields tshark shows."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-T", "fields", "-E", "separator=|",
         "-e", "frame.number", "-e", "ip.src", "-e", "tcp.srcport",
         "-e", "tcp.dstport", "-e", "tcp.flags", "-e", "tcp.seq_raw",
         "-e", "tcp.len", "-e", "tcp.options.sack_le"],
        capture_output=True, text=True, check=True).stdout
    frames = {}
    for line in out.splitlines():
        # An ICMP error quotes the datagram it is about: tshark then lists
        # two values of ip.src (and of the quoted ports); the first is the
        # frame's own.
        f = [v.split(",")[0] for v in line.split("|")]
        if len(f) < 8 or not f[0].isdigit():
            continue
        frames[int(f[0])] = {
            "src": f[1],
            "sport": int(f[2]) if f[2] else None,
            "dport": int(f[3]) if f[3] else None,
            "flags": int(f[4], 16) if f[4] else None,
            "seq": int(f[5]) if f[5] else None,
            "len": int(f[6]) if f[6] else None,
            "sack": bool(f[7]),
        }
    return frames


def port_of(ep):
    return int(ep.rpartition(":")[2])


class Frames:
    def __init__(self, frames, stack_ip):
        self.frames = frames
        self.stack_ip = stack_ip
        self.errs = []
        self.checked = 0
        self.rto_seen = set()   # connections whose RTO has fired
        self.sent_seq = {}      # seq -> first frame the stack sent it in
        for n in sorted(frames):
            f = frames[n]
            if f["src"] == stack_ip and f["seq"] is not None:
                self.sent_seq.setdefault((f["sport"], f["seq"]), n)

    def fail(self, i, what):
        self.errs.append("line %d: %s" % (i, what))

    def frame(self, i, n, from_stack, o):
        """The frame n named by line i, checked for direction and ports."""
        f = self.frames.get(n)
        self.checked += 1
        if f is None:
            self.fail(i, "frame %d is not in the capture" % n)
            return None
        if (f["src"] == self.stack_ip) != from_stack and f["src"]:
            self.fail(i, "frame %d goes the wrong way (from %s)" % (n, f["src"]))
        c = o.get("conn")
        if o.get("layer") == "tcp" and c and f["sport"] is not None:
            lp, rp = port_of(c["local"]), port_of(c["remote"])
            want = (lp, rp) if from_stack else (rp, lp)
            if (f["sport"], f["dport"]) != want:
                self.fail(i, "frame %d has ports %s, not %s" %
                          (n, (f["sport"], f["dport"]), want))
        return f

    def state(self, i, o, fin):
        old, new = o["changed"]["state"]
        need = STATE_IN.get((old, new))
        if need is not None and fin is not None and fin["flags"] is not None:
            if fin["flags"] & need != need:
                self.fail(i, "%s->%s caused by frame %d with flags 0x%02x" %
                          (old, new, o["frame_in"], fin["flags"]))
        outs = [self.frames.get(n) for n in o["frame_out"]]
        if new == "SYN-RECEIVED" and outs and outs[0] and \
                outs[0]["flags"] & (SYN | ACK) != SYN | ACK:
            self.fail(i, "SYN-RECEIVED did not send a SYN-ACK first")

    def retransmit(self, i, o, fin):
        outs = o["frame_out"]
        if len(outs) != 1:
            self.fail(i, "retransmit names %d frames out" % len(outs))
            return
        f = self.frames.get(outs[0])
        if f and o["len"] and (f["seq"] != o["seq"] or f["len"] != o["len"]):
            self.fail(i, "retransmit frame %d has seq %s len %s, not %s %s" %
                      (outs[0], f["seq"], f["len"], o["seq"], o["len"]))
        first = self.sent_seq.get((port_of(o["conn"]["local"]), o["seq"]))
        if f and (first is None or first >= outs[0]):
            self.fail(i, "retransmit frame %d: seq %d was not sent before" %
                      (outs[0], o["seq"]))
        cause = o["cause"]
        cid = o["conn"]["id"]
        if cause == "rto" and fin is None:
            self.rto_seen.add(cid)
        elif cause == "rto" and cid not in self.rto_seen:
            # Go-back-N after a time-out resends as ACKs come in: an ACK may
            # send a cause-rto segment, but only after the timer fired.
            self.fail(i, "cause rto, frame %d caused it and no time-out "
                      "came before" % o["frame_in"])
        if cause in ("dupack", "sack"):
            if fin is None or fin["flags"] is None or not fin["flags"] & ACK:
                self.fail(i, "cause %s without an ACK from the peer" % cause)
            elif cause == "sack" and not fin["sack"]:
                self.fail(i, "cause sack but frame %d has no SACK block" %
                          o["frame_in"])


def cmd_frames(path, pcap, stack_ip):
    chk = Frames(frames_of(pcap), stack_ip)
    for i, line in enumerate(load(path), 1):
        o = json.loads(line)
        if o.get("ev") == "trace_truncated":
            continue
        fin = chk.frame(i, o["frame_in"], False, o) if "frame_in" in o else None
        for n in o.get("frame_out", []):
            chk.frame(i, n, True, o)
        if o.get("ev") == "state":
            chk.state(i, o, fin)
        elif o.get("ev") == "retransmit":
            chk.retransmit(i, o, fin)
    for e in chk.errs[:30]:
        print("FAIL: " + e)
    print("%s: %d frame references checked, %d problems" %
          ("ok" if not chk.errs else "FAIL", chk.checked, len(chk.errs)))
    return 1 if chk.errs or not chk.checked else 0


def cmd_states(path, port):
    for line in load(path):
        o = json.loads(line)
        c = o.get("conn")
        if o.get("ev") == "state" and c and port_of(c["local"]) == int(port):
            print("%s->%s" % tuple(o["changed"]["state"]))
    return 0


def cmd_causes(path):
    n = {}
    for line in load(path):
        o = json.loads(line)
        if o.get("ev") == "retransmit":
            n[o["cause"]] = n.get(o["cause"], 0) + 1
    for k in sorted(n):
        print("%s %d" % (k, n[k]))
    return 0


def main(argv):
    cmds = {"schema": (cmd_schema, 1), "frames": (cmd_frames, 3),
            "states": (cmd_states, 2), "causes": (cmd_causes, 1)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    fn, _ = cmds[argv[1]]
    return fn(*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
