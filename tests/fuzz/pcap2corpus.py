#!/usr/bin/env python3
"""tests/fuzz/pcap2corpus.py - seed corpora for the fuzz targets from the
project's own captures (python3, standard library only).

    tests/fuzz/pcap2corpus.py TARGET OUTDIR PCAP... [--max N]

The captures are what `make integration` leaves in build/
(integration.pcap: ARP, pings, fragments, UDP, the hostile battery;
integration-tcp.pcap: TCP echo sessions); the stack there is 10.0.0.2
with MAC 02:00:0a:00:00:02 and the peer 10.0.0.1, as in the fuzz targets.
Frames the stack received are the seeds; each is rewritten to come from
the fuzz peer's MAC. Per target (the record formats are the targets' own,
see each tests/fuzz/fuzz_TARGET.c):

  frame    single frames, one per kind (ethertype, protocol, flags, ICMP
           type, fragment or not, size class);
  arp      ARP packets of the capture as raw-frame records, a few per
           input, with time steps between;
  reass    the fragments of each fragmented datagram as raw-frame records:
           in order, reversed, and with the first one duplicated;
  session  each TCP connection the peer opened, its segments turned into
           template records (flags, seq and ack relative to the live
           connection, window, SYN or SACK options, payload length), with
           the time between them as time steps and reads by the
           application so the window opens;
  http     the byte stream the peer sent to port 80 or 8080, when the
           captures hold one (else nothing: fuzz_http's seeds are written
           by hand in tests/fuzz/corpus/http/).

Files are named by the SHA-1 of their contents (libFuzzer's own naming),
so running the tool again adds nothing twice.
"""
import hashlib
import os
import struct
import sys

STACK_MAC = bytes.fromhex("02000a000002")
PEER_MAC = bytes.fromhex("02000a000001")
STACK_IP = bytes([10, 0, 0, 2])
PEER_IP = bytes([10, 0, 0, 1])


def read_pcap(path):
    """Yield (time in seconds, frame bytes) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise SystemExit("%s: not a pcap file" % path)
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        yield sec + frac / (1e9 if nano else 1e6), data[off:off + incl]
        off += incl


def to_stack(frame):
    """A frame the stack received, rewritten to come from the fuzz peer."""
    if len(frame) < 14 or frame[6:12] == STACK_MAC:
        return None
    return frame[:6] + PEER_MAC + frame[12:]


def ipv4(frame):
    """(header length, total length, id, frag field, proto, src, dst) or
    None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    hl = (ip[0] & 15) * 4
    if ip[0] >> 4 != 4 or hl < 20 or len(ip) < hl:
        return None
    tot, ident, frag = struct.unpack(">HHH", ip[2:8])
    return hl, tot, ident, frag, ip[9], ip[12:16], ip[16:20]


def raw_record(op, frame):
    return bytes([op]) + struct.pack(">H", len(frame)) + frame


def first_option(frame, hl):
    """The type of the first IP option that is not a NOP (-1: only NOPs),
    None when the header has no options: a seed per option kind."""
    if hl <= 20:
        return None
    for t in frame[34:14 + hl]:
        if t != 1:
            return t
    return -1


def frame_key(frame):
    """What makes a frame a different kind of seed."""
    ip = ipv4(frame)
    etype = frame[12:14]
    if etype == b"\x08\x06":
        a = frame[14:]
        return (etype, a[6:8], a[14:18] == bytes(4), a[14:18] == a[24:28],
                len(frame) // 64)
    if not ip:
        return (etype, frame[14:15], len(frame) // 128)
    hl, tot, _, frag, proto, _, _ = ip
    l4 = frame[14 + hl:]
    sub = 0
    if frag & 0x1FFF == 0 and l4:
        sub = l4[0] if proto == 1 else (l4[13] if proto == 6 and len(l4) > 13 else 0)
    return (etype, proto, sub, bool(frag & 0x2000), bool(frag & 0x1FFF),
            first_option(frame, hl), tot // 512)


def seeds_frame(frames):
    seen = {}
    for _, f in frames:
        seen.setdefault(frame_key(f), f)
    return list(seen.values())


def seeds_arp(frames):
    arps = [f for _, f in frames if f[12:14] == b"\x08\x06"]
    out = []
    for i in range(0, len(arps), 4):
        rec = b""
        for f in arps[i:i + 4]:
            rec += raw_record(3, f) + bytes([2]) + struct.pack(">H", 600)
        out.append(rec)
    return out


def seeds_reass(frames):
    dgrams = {}
    for _, f in frames:
        ip = ipv4(f)
        if ip and ip[3] & 0x3FFF:
            dgrams.setdefault((ip[5], ip[2], ip[4]), []).append(f)
    out = []
    for frags in dgrams.values():
        fwd = b"".join(raw_record(7, f) for f in frags)
        out.append(fwd)
        out.append(b"".join(raw_record(7, f) for f in reversed(frags)))
        out.append(raw_record(7, frags[0]) + fwd + bytes([6]) +
                   struct.pack(">H", 31000))
    return out


def tcp_parts(frame):
    ip = ipv4(frame)
    if not ip or ip[4] != 6 or ip[3] & 0x3FFF:
        return None
    hl, tot = ip[0], ip[1]
    t = frame[14 + hl:14 + tot]
    if len(t) < 20:
        return None
    sport, dport, seq, ack = struct.unpack(">HHII", t[:12])
    thl = (t[12] >> 4) * 4
    return dict(src=ip[5], sport=sport, dport=dport, seq=seq, ack=ack,
                flags=t[13], wnd=struct.unpack(">H", t[14:16])[0],
                opts=t[20:thl], len=len(t) - thl)


def sack_blocks(opts):
    """The SACK blocks of an option list, or []."""
    i, out = 0, []
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        n = opts[i + 1]
        if kind == 5:
            body = opts[i + 2:i + n]
            out = [struct.unpack(">II", body[k:k + 8])
                   for k in range(0, len(body) - 7, 8)]
        i += n
    return out


def template(seg, peer_next, our_max, ack_base_una, first):
    """One fuzz_session template record (op 2) for a segment."""
    tgt = 0x20 if first else 0x00          # a new tuple, or the newest TCB
    dack = (seg["ack"] - our_max) & 0xFFFF if our_max is not None else 0
    if not first:
        tgt |= 0x80                        # ack relative to SND.MAX
    dseq = (seg["seq"] - peer_next) & 0xFFFF if peer_next is not None else 0
    rec = bytes([2, tgt, seg["flags"]]) + struct.pack(">HHH", dseq, dack,
                                                       seg["wnd"])
    sack = sack_blocks(seg["opts"])
    if seg["flags"] & 0x02:
        rec += bytes([1]) + struct.pack(">H", 1460) + bytes([7])
    elif sack and ack_base_una is not None:
        rec += bytes([2 | (min(len(sack), 4) - 1) << 2])
        for left, right in sack[:4]:
            rec += struct.pack(">HH", (left - ack_base_una) & 0xFFFF,
                               (right - left) & 0xFFFF)
    else:
        rec += bytes([3])
    return rec + struct.pack(">H", min(seg["len"], 1460))


def seeds_session(frames, max_segs=40):
    flows, order = {}, []
    for t, f in frames:
        seg = tcp_parts(f)
        if not seg:
            continue
        key = (seg["sport"], seg["dport"]) if seg["src"] == PEER_IP else \
              (seg["dport"], seg["sport"])
        if key not in flows:
            flows[key] = []
            order.append(key)
        flows[key].append((t, seg))
    out = []
    for key in order:
        rec, peer_next, our_max, last_t, n = b"", None, None, None, 0
        for t, seg in flows[key]:
            if seg["src"] != PEER_IP:      # the stack's: track SND.MAX
                end = seg["seq"] + seg["len"] + bool(seg["flags"] & 3)
                if our_max is None or ((end - our_max) & 0xFFFFFFFF) < 1 << 31:
                    our_max = end & 0xFFFFFFFF
                continue
            if last_t is not None and t - last_t > 0.001:
                rec += bytes([0]) + struct.pack(">H", min(int((t - last_t) * 1000), 0x7FFF))
            last_t = t
            rec += template(seg, peer_next, our_max, seg["ack"], peer_next is None)
            if seg["len"]:
                rec += bytes([3, 2 | 1 << 3]) + struct.pack(">H", 4096)
            peer_next = (seg["seq"] + seg["len"] + bool(seg["flags"] & 3)) & 0xFFFFFFFF
            n += 1
            if n >= max_segs:
                break
        if rec:
            out.append(rec)
    return out


def seeds_http(frames):
    streams = {}
    for _, f in frames:
        seg = tcp_parts(f)
        if seg and seg["src"] == PEER_IP and seg["dport"] in (80, 8080) and seg["len"]:
            streams.setdefault(seg["sport"], b"")
            streams[seg["sport"]] += f[-seg["len"]:]
    return list(streams.values())


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    target, outdir, pcaps = argv[1], argv[2], argv[3:]
    limit = 40
    if "--max" in pcaps:
        i = pcaps.index("--max")
        limit = int(pcaps[i + 1])
        del pcaps[i:i + 2]
    frames = []
    for p in pcaps:
        for t, f in read_pcap(p):
            f = to_stack(f)
            if f:
                frames.append((t, f))
    make = {"frame": seeds_frame, "arp": seeds_arp, "reass": seeds_reass,
            "session": seeds_session, "http": seeds_http}.get(target)
    if not make:
        raise SystemExit("unknown target %s" % target)
    os.makedirs(outdir, exist_ok=True)
    seeds = [s for s in make(frames) if s][:limit]
    for s in seeds:
        with open(os.path.join(outdir, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)
    print("%s: %d seeds into %s" % (target, len(seeds), outdir))


if __name__ == "__main__":
    main(sys.argv)
