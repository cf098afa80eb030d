#!/usr/bin/env python3
"""A backend for the health and fleet tests: health_be.py NAME IP DIR

TCP :8080: an HTTP GET (a health check) gets 200, or 503 while DIR/NAME.sick
exists, and its source address and port are appended to DIR/NAME.checks;
any other first line gets NAME, then the line and every later one echoed.
UDP :5353: each datagram is echoed."""
import os, socket, socketserver, sys, threading

NAME, IP, DIR = sys.argv[1:4]


class H(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            self.serve()
        except ConnectionError:
            pass  # a check that gave up (timeout) resets its connection

    def serve(self):
        first = self.rfile.readline()
        if first.startswith(b"GET "):
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            with open(os.path.join(DIR, NAME + ".checks"), "a") as f:
                f.write("%s %d\n" % self.client_address[:2])
            sick = os.path.exists(os.path.join(DIR, NAME + ".sick"))
            self.wfile.write(b"HTTP/1.0 503 Sick\r\n\r\n" if sick else
                             b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            return
        self.wfile.write((NAME + "\n").encode() + first)
        for line in self.rfile:
            self.wfile.write(line)


class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 256


def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((IP, 5353))
    while True:
        d, a = u.recvfrom(2048)
        u.sendto(d, a)


threading.Thread(target=udp, daemon=True).start()
S((IP, 8080), H).serve_forever()
