#!/usr/bin/env python3
"""Client side of the path-MTU cases (faults.sh, lb.sh): one TCP connection
to HOST:PORT that exchanges a short line, then waits for DIR/pmtu_go (the
test lowers an MTU meanwhile) and sends a 4000-byte line in segments that
may no longer fit; its kernel must learn the path MTU from the ICMP error
for the line to be echoed.

  pmtu_line.py DIR HOST PORT [--greeting]   --greeting: the server first
                                            sends a line of its own (its name)
Touches DIR/pmtu_ready once connected; prints {"ok": bool, "ms": n}.
"""
import json, os, socket, sys, time

d, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((host, port), timeout=3)
f = s.makefile("rb")
if "--greeting" in sys.argv[4:]:
    f.readline()
s.sendall(b"small\n")
ok = f.readline() == b"small\n"
open(d + "/pmtu_ready", "w").close()
t0 = time.time()
while not os.path.exists(d + "/pmtu_go") and time.time() - t0 < 30:
    time.sleep(0.05)
line = b"x" * 4000 + b"\n"
s.settimeout(10)
t0 = time.time()
try:
    s.sendall(line)
    ok = ok and f.readline() == line
except OSError:
    ok = False
print(json.dumps({"ok": ok, "ms": int((time.time() - t0) * 1000)}))
