#!/usr/bin/env python3
"""TCP client side of the health and fleet tests, against backends that
answer a connection with their name and then echo lines (health_be.py).

  conns.py new HOST PORT N            N short connections: which backend
                                      answered each -> {"backends": {name: n}, "failed": n}
  conns.py hold HOST PORT K SECS OUT  K long connections, a line every 100 ms
                                      each, for SECS (or until OUT.stop exists);
                                      writes OUT: per connection its backend,
                                      echoes, whether it broke and when (epoch
                                      seconds), longest stall
"""
import json, os, socket, sys, threading, time


def open_conn(host, port, timeout):
    s = socket.create_connection((host, port), timeout)
    s.sendall(b"hello\n")
    f = s.makefile("rb")
    name = f.readline().decode().strip()
    echo = f.readline()
    if not name or echo != b"hello\n":
        raise OSError("bad greeting %r %r" % (name, echo))
    return s, f, name


def new(host, port, n):
    seen, failed, errors = {}, 0, []
    for _ in range(n):
        try:
            s, f, name = open_conn(host, port, 3.0)
            seen[name] = seen.get(name, 0) + 1
            s.close()
        except OSError as e:
            failed += 1
            errors.append(str(e))
    print(json.dumps({"backends": seen, "failed": failed, "errors": errors[:3]}))


def hold(host, port, k, secs, out):
    res = [None] * k
    start = threading.Barrier(k + 1)
    stop_at = time.monotonic() + secs

    def run(i):
        r = {"backend": None, "port": 0, "echoes": 0, "broken": None, "broken_at": None,
             "max_stall_ms": 0}
        res[i] = r
        try:
            s, f, r["backend"] = open_conn(host, port, 2.0)
        except OSError as e:
            r["broken"] = "connect: %s" % e
            start.wait()
            return
        r["port"] = s.getsockname()[1]
        start.wait()
        s.settimeout(30)
        last, seq = time.monotonic(), 0
        while time.monotonic() < stop_at and not os.path.exists(out + ".stop"):
            seq += 1
            line = b"%d %d\n" % (i, seq)
            try:
                s.sendall(line)
                got = f.readline()
            except OSError as e:
                r["broken"], r["broken_at"] = str(e), time.time()
                break
            if got != line:
                r["broken"], r["broken_at"] = "bad echo %r" % got, time.time()
                break
            now = time.monotonic()
            r["max_stall_ms"] = max(r["max_stall_ms"], int((now - last) * 1000))
            last = now
            r["echoes"] += 1
            time.sleep(0.1)
        s.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(k)]
    for t in threads:
        t.start()
    start.wait()
    # Whole or not at all: a reader polls for the file and parses it.
    with open(out + ".ready.tmp", "w") as f:
        json.dump(res, f)
    os.rename(out + ".ready.tmp", out + ".ready")
    for t in threads:
        t.join(secs + 40)
    with open(out + ".tmp", "w") as f:
        json.dump(res, f)
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "new":
        new(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "hold":
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(__doc__)
