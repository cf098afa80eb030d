#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus for fuzz_pipeline (tests/fuzz/corpus/pipeline): flows of every
service kind of its snapshot, both ways, and tunnel packets.  Each seed is a
record sequence: one byte of burst choice, then per frame [flags][len:2][bytes]
(flags bit 0: ingress port 0 client, 1 backend).  Run once after changing the
snapshot: python3 gen_pipeline_corpus.py DIR"""
import os
import struct
import sys

from scapy.all import (Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6EchoRequest, Dot1Q,
                       IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, Raw, raw)
from scapy.layers.vxlan import VXLAN

P0, P1 = "02:00:00:00:00:10", "02:00:00:00:00:11"
CLI, BE1, NODE = "02:00:00:00:01:02", "02:00:00:00:02:10", "02:00:00:00:02:20"


def cli(pkt):
    return (0, Ether(src=CLI, dst=P0) / pkt)


def be(pkt, mac=BE1):
    return (1, Ether(src=mac, dst=P1) / pkt)


def seed(frames, burst=0):
    out = bytes([burst])
    for port, f in frames:
        b = raw(f)
        out += struct.pack(">BH", port, len(b)) + b
    return out


def geneve(vni, inner):
    return struct.pack(">BBH", 0, 0, 0x6558) + struct.pack(">I", vni << 8) + raw(inner)


S = {}
S["tcp_flow"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.1") / TCP(sport=40000, dport=80, flags="S")),
    be(IP(src="198.18.2.10", dst="198.18.1.2") / TCP(sport=8080, dport=40000, flags="SA")),
    be(IP(src="198.18.2.11", dst="198.18.1.2") / TCP(sport=8080, dport=40000, flags="SA")),
    cli(IP(src="198.18.1.2", dst="198.18.100.1") / TCP(sport=40000, dport=80, flags="A") / Raw(b"GET /")),
    cli(IP(src="198.18.1.2", dst="198.18.100.1") / TCP(sport=40000, dport=80, flags="FA")),
])
S["tcp_flow_burst"] = S["tcp_flow"][:0] + bytes([1]) + S["tcp_flow"][1:]
S["udp_rr"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.2") / UDP(sport=41000, dport=53) / Raw(b"q")),
    be(IP(src="198.18.2.10", dst="198.18.1.2") / UDP(sport=5353, dport=41000) / Raw(b"a")),
    cli(IP(src="198.18.1.2", dst="198.18.100.2") / UDP(sport=41001, dport=53) / Raw(b"q")),
], 1)
S["snat"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.3") / TCP(sport=42000, dport=80, flags="S")),
    be(IP(src="198.18.2.11", dst="198.18.2.1") / TCP(sport=8080, dport=1024, flags="SA"),
       "02:00:00:00:02:11"),
])
S["policy_deny"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.4") / TCP(sport=43000, dport=22, flags="S")),
    cli(IP(src="198.18.1.2", dst="198.18.5.7") / UDP(sport=1, dport=9999)),
])
S["route_ttl"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.5.7", ttl=1) / UDP(sport=44000, dport=7000) / Raw(b"t")),
    cli(Dot1Q(vlan=5) / IP(src="198.18.1.2", dst="198.18.5.7") / UDP(sport=1, dport=2)),
    cli(IP(src="198.18.1.2", dst="198.18.100.1") / ICMP(type=8, id=7) / Raw(b"ping")),
])
S["frag"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.2", flags="MF") / UDP(sport=41000, dport=53, len=100) / Raw(b"x" * 16)),
    cli(IP(src="198.18.1.2", dst="198.18.100.2", frag=3, proto=17) / Raw(b"y" * 16)),
    be(IP(src="198.18.2.10", dst="198.18.1.2", frag=3, proto=17) / Raw(b"z" * 16)),
])
S["v6"] = seed([
    cli(IPv6(src="2001:db8:1::2", dst="2001:db8:100::1") / TCP(sport=40000, dport=80, flags="S")),
    be(IPv6(src="2001:db8:2::10", dst="2001:db8:1::2") / TCP(sport=8080, dport=40000, flags="SA")),
    cli(IPv6(src="2001:db8:1::2", dst="2001:db8:100::2") / IPv6ExtHdrHopByHop() / UDP(sport=5, dport=53)),
    cli(IPv6(src="2001:db8:1::2", dst="2001:db8:100::1") / IPv6ExtHdrFragment(offset=8) / Raw(b"f" * 8)),
    cli(IPv6(src="2001:db8:1::2", dst="2001:db8:100::1") / ICMPv6EchoRequest(id=3)),
    cli(IPv6(src="2001:db8:1::2", dst="2001:db8:5::7", hlim=1) / UDP(sport=5, dport=6)),
])
inner_v = Ether(src="02:00:00:00:04:0a", dst="02:00:00:00:00:11") / IP(src="198.18.4.10", dst="198.18.1.2") / TCP(sport=8080, dport=40000, flags="SA")
inner_g = Ether(src="02:00:00:00:04:0b", dst="02:00:00:00:00:11") / IP(src="198.18.4.11", dst="198.18.1.2") / TCP(sport=8080, dport=40001, flags="SA")
S["vxlan"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.5") / TCP(sport=40000, dport=80, flags="S")),
    be(IP(src="198.18.2.20", dst="198.18.2.1") / UDP(sport=50000, dport=4789) / VXLAN(vni=42) / inner_v, NODE),
])
S["geneve"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.6") / TCP(sport=40001, dport=80, flags="S")),
    be(IP(src="198.18.2.20", dst="198.18.2.1") / UDP(sport=50000, dport=6081) / Raw(geneve(43, inner_g)), NODE),
])
S["icmp_error"] = seed([
    cli(IP(src="198.18.1.2", dst="198.18.100.1") / TCP(sport=40000, dport=80, flags="S")),
    be(IP(src="198.18.2.2", dst="198.18.1.2") / ICMP(type=3, code=4) /
       raw(IP(src="198.18.1.2", dst="198.18.2.10") / TCP(sport=40000, dport=8080, flags="S"))[:28],
       "02:00:00:00:02:02"),
])

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "pipeline")
os.makedirs(d, exist_ok=True)
for name, data in S.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
print(f"{len(S)} seeds in {d}")
