#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpus for fuzz_netlink (tests/fuzz/corpus/netlink): the kernel's
own dumps of routes, neighbours and addresses (raw rtnetlink buffers as
recv returns them) from a scratch namespace with IPv4 and IPv6 addresses,
veth links, a gateway route, a multipath route, a route in another table, a
blackhole and static neighbours.  Root; python3 gen_netlink_corpus.py DIR"""
import os
import socket
import struct
import subprocess
import sys

NS = "xgwfz%d" % os.getpid()
RTM_GETROUTE, RTM_GETNEIGH, RTM_GETADDR = 26, 30, 22


def ip(*a):
    subprocess.run(["ip", "-n", NS] + list(a), check=True)


def dump(kind):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    s.bind((0, 0))
    hdr = struct.pack("=B3x", socket.AF_UNSPEC)
    msg = struct.pack("=IHHII", 16 + len(hdr), kind, 0x301, 1, 0) + hdr  # REQUEST|DUMP
    s.send(msg)
    bufs = []
    done = False
    while not done:
        b = s.recv(65536)
        bufs.append(b)
        off = 0
        while off + 16 <= len(b):  # walk the messages for NLMSG_DONE
            length, kind = struct.unpack_from("=IH", b, off)
            done |= kind == 3
            off += (length + 3) & ~3 if length else len(b)
    s.close()
    return bufs


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
if sys.argv[2:] == ["--dump"]:  # inside the namespace
    n = 0
    for kind in (RTM_GETROUTE, RTM_GETNEIGH, RTM_GETADDR):
        for b in dump(kind):
            open(os.path.join(out, "nl-%d-%d" % (kind, n)), "wb").write(b)
            n += 1
    sys.exit(0)
subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    ip("link", "add", "a0", "type", "veth", "peer", "name", "b0")
    ip("link", "add", "a1", "type", "veth", "peer", "name", "b1")
    for d in ("a0", "a1", "b0", "b1", "lo"):
        ip("link", "set", d, "up")
    ip("addr", "add", "198.18.1.1/24", "dev", "a0")
    ip("addr", "add", "198.18.2.1/24", "dev", "a1")
    ip("addr", "add", "2001:db8:1::1/64", "dev", "a0", "nodad")
    ip("route", "add", "198.18.9.0/24", "via", "198.18.1.2")
    ip("route", "add", "198.18.10.0/24", "nexthop", "via", "198.18.1.2", "nexthop", "via", "198.18.2.2")
    ip("route", "add", "198.18.11.0/24", "via", "198.18.2.2", "table", "100")
    ip("route", "add", "blackhole", "198.18.12.0/24")
    ip("-6", "route", "add", "2001:db8:9::/48", "via", "2001:db8:1::2")
    ip("neigh", "add", "198.18.1.2", "lladdr", "02:00:00:00:01:02", "dev", "a0")
    ip("neigh", "add", "2001:db8:1::2", "lladdr", "02:00:00:00:01:02", "dev", "a0")
    subprocess.run(["ip", "netns", "exec", NS, sys.executable, __file__, out, "--dump"],
                   check=True)
finally:
    subprocess.run(["ip", "netns", "del", NS])
print(len(os.listdir(out)), "seeds")
