#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus for fuzz_icmp (tests/fuzz/corpus/icmp): ICMP and ICMPv6
errors quoting each of fuzz_icmp.c's eight connections, from a router on
either side, whole and 8-byte quotes.  python3 gen_icmp_corpus.py DIR"""
import os
import sys

from scapy.all import (Ether, IP, IPv6, TCP, UDP, ICMP, ICMPv6DestUnreach, ICMPv6PacketTooBig,
                       Raw, raw)

FAM = {4: ("198.18.0.1", "198.18.100.1", "198.18.2.10", "198.18.2.1", "198.18.3.1"),
       6: ("2001:db8::1:1", "2001:db8::64:1", "2001:db8::2:10", "2001:db8::2:1", "2001:db8::3:1")}


def l3(v, src, dst):
    return IP(src=src, dst=dst) if v == 4 else IPv6(src=src, dst=dst)


def l4(udp, sport, dport):
    return (UDP(sport=sport, dport=dport) if udp else TCP(sport=sport, dport=dport, flags="A")) / Raw(b"0123456789abcdef")


def err(v, src, dst, quoted, cut):
    q = raw(quoted)
    if cut:
        q = q[:(20 if v == 4 else 40) + 8]
    e = ICMP(type=3, code=4, nexthopmtu=1400) if v == 4 else ICMPv6PacketTooBig(mtu=1400)
    return Ether(src="02:00:00:00:03:01", dst="02:00:00:00:00:11") / l3(v, src, dst) / e / Raw(q)


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 0
for v in (4, 6):
    cl, vip, be, gw, rt = FAM[v]
    for snat in (0, 1):
        me, mport = (gw, 2000) if snat else (cl, 40000)
        for udp in (0, 1):
            for cut in (0, 1):
                frames = [
                    # a router toward the backend drops our translated packet
                    err(v, rt, me, l3(v, me, be) / l4(udp, mport, 8080), cut),
                    # the backend itself answers with an error
                    err(v, be, me, l3(v, me, be) / l4(udp, mport, 8080), cut),
                    # a router toward the client drops our reply
                    err(v, rt, vip, l3(v, vip, cl) / l4(udp, 80, 40000), cut),
                    # the client answers with an error about our reply
                    err(v, cl, vip, l3(v, vip, cl) / l4(udp, 80, 40000), cut),
                ]
                for f in frames:
                    open(os.path.join(out, "icmp-%03d" % n), "wb").write(raw(f))
                    n += 1
print(n, "seeds")
