# SPDX-License-Identifier: BSD-3-Clause
"""xgw-bench --apps: real clients through each path, on the same topology.

    [gen] G 198.18.1.2 ==veth== D0 [dut] D1 ==veth== S 198.18.2.10-17 [servers]
    iperf3 -c / wrk (CPU 0)      path under test       nginx :8080 on each backend
                                 (CPU N-1)             iperf3 -s 198.18.2.10:5201

Services: VIP 198.18.100.1:80/tcp -> the 8 nginx backends, and
198.18.100.1:5201/tcp -> the one iperf3 server.  Paths:
  user              xgwd, datapath user (AF_XDP copy mode on veth)
  kernel            xgwd, datapath kernel (XDP) where xgwd serves it
  nftables          kernel forwarding + nftables DNAT, veth offloads off (as
                    for every other path: AF_XDP never meets "the NIC")
  nftables-offload  the same with TX checksum, TSO and GRO on: the kernel's
                    best case (it forwards 64 KB aggregates, XDP paths see
                    MTU-sized packets because XDP runs before GRO)
Tests: iperf3 TCP upload and download (Gbps), wrk requests/s with keep-alive
and with one connection per request.
"""
import json
import os
import re
import statistics

APP_PATHS = ["user", "kernel", "nftables", "nftables-offload"]
APP_TESTS = ["iperf3-up", "iperf3-down", "wrk-keepalive", "wrk-close"]
HTTP_PORT, IPERF_PORT, NGINX_PORT = 80, 5201, 8080
WRK_CONNS = 16


class Apps:
    def __init__(self, b, mod):
        self.b, self.m = b, mod  # the Bench and the xgw-bench module (constants, run)
        self.servers = []

    def services(self):
        m = self.m
        return [(m.VIP, HTTP_PORT, "tcp", [(ip, NGINX_PORT) for ip in m.BACKENDS]),
                (m.VIP, IPERF_PORT, "tcp", [(m.BACKENDS[0], IPERF_PORT)])]

    # ---- servers and routes ------------------------------------------------
    def up(self):
        b, m = self.b, self.m
        b.topo_up(1)
        # The clients reach the VIP through D0; the servers answer through D1.
        m.run(["ip", "-n", b.GEN, "route", "replace", m.VIP + "/32", "via", m.D0_IP])
        m.run(["ip", "-n", b.SNK, "route", "replace", "198.18.1.0/24", "via", m.D1_IP])
        root = os.path.join(b.tmp, "www")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write("x" * 1024)
        # nginx's workers run unprivileged: they must reach the page.
        os.chmod(b.tmp, 0o711)
        os.chmod(root, 0o755)
        os.chmod(os.path.join(root, "index.html"), 0o644)
        conf = os.path.join(b.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"daemon off; worker_processes 1; pid {b.tmp}/nginx.pid;\n"
                    f"error_log {b.tmp}/nginx.err;\n"
                    "events { worker_connections 4096; }\n"
                    "http { access_log off; keepalive_requests 1000000;\n"
                    f"  server {{ listen {NGINX_PORT} reuseport; root {root}; }} }}\n")
        logf = open(os.path.join(b.tmp, "servers.log"), "a")
        core = str(b.gen_core)
        self.servers.append(b.spawn(b.nsx(b.SNK, "taskset", "-c", core, "nginx", "-c", conf,
                                          "-e", os.path.join(b.tmp, "nginx.err")), logf, logf))
        self.servers.append(b.spawn(b.nsx(b.SNK, "taskset", "-c", core, "iperf3", "-s", "-B",
                                          m.BACKENDS[0], "-p", str(IPERF_PORT)), logf, logf))
        for _ in range(50):
            out = m.run(b.nsx(b.SNK, "ss", "-ltn"))
            if f":{NGINX_PORT}" in out and f":{IPERF_PORT}" in out:
                return
            m.time.sleep(0.1)
        raise m.Fail("nginx or iperf3 did not start: " + open(logf.name).read()[-300:])

    def down(self):
        for p in self.servers:
            self.b.stop(p, grace=3)
        self.servers = []
        self.b.topo_down()

    def offloads(self, on):
        b = self.b
        v = "on" if on else "off"
        for ns, ifc in ((b.GEN, b.G), (b.DUT, b.D0), (b.DUT, b.D1), (b.SNK, b.S)):
            self.m.run(b.nsx(ns, "ethtool", "-K", ifc, "tx", v, "tso", v, "gro", v), check=False)

    def peers_xdp(self, on):
        """XDP_PASS on the client and server ends: a veth only takes frames
        that XDP transmits into it (the kernel datapath's XDP_TX and
        redirects) when its peer has an XDP program."""
        b, m = self.b, self.m
        for ns, ifc in ((b.GEN, b.G), (b.SNK, b.S)):
            if on:
                m.run(["ip", "-n", ns, "link", "set", "dev", ifc, "xdpdrv", "obj", b.obj,
                       "program", "xdp_pass"])
            else:
                m.run(["ip", "-n", ns, "link", "set", "dev", ifc, "xdpdrv", "off"], check=False)

    def start(self, path):
        b = self.b
        v = dict(size=64, flows=1, queues=1)
        if path == "user":
            return b.start_xgwd(v, path, self.services())
        if path == "kernel":
            # bpf_fib_lookup needs forwarding on in the gateway.
            self.m.run(b.nsx(b.DUT, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
            self.peers_xdp(True)
            try:
                stop = b.start_xgwd(v, path, self.services())
            except BaseException:
                self.peers_xdp(False)
                raise

            def stop_kernel():
                stop()
                self.peers_xdp(False)
                self.m.run(b.nsx(b.DUT, "sysctl", "-qw", "net.ipv4.ip_forward=0"), check=False)
            return stop_kernel
        if path == "nftables":
            return b.start_nft(self.services())
        self.offloads(True)
        stop = b.start_nft(self.services())

        def stop_both():
            stop()
            self.offloads(False)
        return stop_both

    # ---- clients -------------------------------------------------------------
    def client(self, *cmd, timeout):
        b = self.b
        return self.m.run(b.nsx(b.GEN, "taskset", "-c", str(b.gen_core), *cmd), timeout=timeout)

    def measure(self, test, secs):
        """One figure: Gbps for iperf3, requests/s for wrk."""
        m = self.m
        t = max(1, int(round(secs)))
        if test.startswith("iperf3"):
            cmd = ["iperf3", "-c", m.VIP, "-p", str(IPERF_PORT), "-t", str(t), "-J"]
            if test == "iperf3-down":
                cmd.append("-R")
            j = json.loads(self.client(*cmd, timeout=t + 30))
            if "error" in j:
                raise m.Fail("iperf3: " + j["error"])
            return j["end"]["sum_received"]["bits_per_second"] / 1e9
        cmd = ["wrk", "-t1", f"-c{WRK_CONNS}", f"-d{t}s", "--timeout", "2s"]
        if test == "wrk-close":
            cmd += ["-H", "Connection: close"]
        out = self.client(*cmd, f"http://{m.VIP}:{HTTP_PORT}/", timeout=t + 30)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not rps:
            raise m.Fail("wrk printed no rate: " + out[-300:])
        errs = re.search(r"Socket errors: (.*)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx and int(non2xx.group(1)):
            raise m.Fail(f"wrk: {non2xx.group(1)} non-2xx responses")
        if errs and test == "wrk-keepalive":
            m.log(f"xgw-bench: wrk socket errors ({test}): {errs.group(1)}")
        return float(rps.group(1))

    def run(self, paths, repeats, secs):
        """Rows (path, test, repeat, value or status); paths in alternating
        order per repeat, every test of a path while it is up."""
        m, rows = self.m, []
        self.up()
        try:
            for rep in range(1, repeats + 1):
                order = paths if rep % 2 else list(reversed(paths))
                for path in order:
                    if path in m.APPS_UNAVAILABLE:
                        continue
                    try:
                        stop = self.start(path)
                    except m.Fail as e:
                        for t in APP_TESTS:
                            rows.append(dict(path=path, test=t, repeat=rep, status=str(e)[:200]))
                        continue
                    try:
                        for t in APP_TESTS:
                            try:
                                val = self.measure(t, secs)
                                rows.append(dict(path=path, test=t, repeat=rep, value=val,
                                                 status="ok"))
                                m.log(f"[apps r{rep}] {path} {t}: {val:.3f}")
                            except (m.Fail, m.subprocess.TimeoutExpired) as e:
                                rows.append(dict(path=path, test=t, repeat=rep,
                                                 status=" ".join(str(e).split())[:200]))
                                m.log(f"[apps r{rep}] {path} {t}: {rows[-1]['status']}")
                    finally:
                        stop()
        finally:
            self.down()
        return rows


def report(rows, paths, mod):
    """Markdown: medians per path and test, and ratios to nftables as the
    median of same-repeat pairs."""
    md = ["\n#### Real clients (iperf3 Gbps, wrk requests/s; median of the repeats)\n",
          "| path | " + " | ".join(APP_TESTS) + " |", "|" + "---|" * (1 + len(APP_TESTS))]
    for p in paths:
        if p in mod.APPS_UNAVAILABLE:
            md.append(f"| {p} | " + " | ".join([mod.APPS_UNAVAILABLE[p]] + [""] * (len(APP_TESTS) - 1)) + " |")
            continue
        cells = []
        for t in APP_TESTS:
            vals = [r["value"] for r in rows if (r["path"], r["test"]) == (p, t) and "value" in r]
            bad = [r["status"] for r in rows if (r["path"], r["test"]) == (p, t) and "value" not in r]
            fmtv = f"{statistics.median(vals):.2f}" if t.startswith("iperf3") else \
                f"{statistics.median(vals):.0f}" if vals else ""
            cells.append(fmtv if vals else (bad[0][:60] if bad else "not run"))
        md.append(f"| {p} | " + " | ".join(cells) + " |")
    md.append("\nRatios to nftables (offloads off) and to nftables-offload, each the median "
              "of same-repeat pairs:\n")
    md.append("| path | vs | " + " | ".join(APP_TESTS) + " |")
    md.append("|" + "---|" * (2 + len(APP_TESTS)))
    for p in ("user", "kernel"):
        for base in ("nftables", "nftables-offload"):
            if p not in paths or base not in paths or p in mod.APPS_UNAVAILABLE:
                continue
            cells = []
            for t in APP_TESTS:
                pairs = []
                for rep in sorted(set(r["repeat"] for r in rows)):
                    a = [r["value"] for r in rows if (r["path"], r["test"], r["repeat"]) == (p, t, rep) and "value" in r]
                    c = [r["value"] for r in rows if (r["path"], r["test"], r["repeat"]) == (base, t, rep) and "value" in r]
                    if a and c and c[0] > 0:
                        pairs.append(a[0] / c[0])
                cells.append(f"{statistics.median(pairs):.2f} ({' '.join(f'{x:.2f}' for x in pairs)})"
                             if pairs else "n/a")
            md.append(f"| {p} | {base} | " + " | ".join(cells) + " |")
    md.append("\nTCP Gbps is not a like-for-like figure: XDP runs before GRO, so both xgw "
              "datapaths forward MTU-sized packets, while nftables-offload forwards 64 KB "
              "GRO/TSO aggregates; nftables (offloads off) is the same-packets comparison.")
    return "\n".join(md)
