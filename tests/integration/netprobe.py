#!/usr/bin/env python3
"""Small network probes for the namespace tests (bounded in time).

  netprobe.py serve-tcp ADDR PORT        accept and count bytes (stdout per conn)
  netprobe.py serve-udp ADDR PORT FILE   append one line to FILE per datagram
  netprobe.py connect ADDR PORT          exit 0 if a TCP connection opens
                                         within $NETPROBE_TIMEOUT s (1)
  netprobe.py connect-flood ADDR PORT STOP
                                         start a connection every 2 ms, each
                                         given 0.2 s, until the file STOP
                                         exists; print "TRIES OPENED"
  netprobe.py send-udp ADDR PORT         send one datagram
  netprobe.py stream ADDR PORT FILE SECS send data for SECS, write bytes sent to FILE
"""
import errno
import os
import selectors
import socket
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve_tcp(addr, port, total_file=None):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    total = [0]

    def handle(c):
        while True:
            try:
                b = c.recv(65536)
            except OSError:
                break
            if not b:
                break
            total[0] += len(b)
            if total_file:
                with open(total_file, "w") as f:
                    f.write("%d\n" % total[0])
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


def connect_flood(addr, port, stop):
    """Many SYNs, so that a short window in the firewall is hit."""
    sel = selectors.DefaultSelector()
    tries = opened = 0
    started = {}
    next_at = time.monotonic()
    while not os.path.exists(stop) or started:
        now = time.monotonic()
        if not os.path.exists(stop) and now >= next_at:
            s = socket.socket(family(addr), socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex((addr, port))
            tries += 1
            if e == 0:
                opened += 1
                s.close()
            elif e == errno.EINPROGRESS:
                started[s] = now
                sel.register(s, selectors.EVENT_WRITE)
            else:
                s.close()
            next_at = now + 0.002
        for key, _ in sel.select(timeout=0.002):
            s = key.fileobj
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                opened += 1
            sel.unregister(s)
            del started[s]
            s.close()
        for s, t in list(started.items()):
            if now - t > 0.2:
                sel.unregister(s)
                del started[s]
                s.close()
    print(tries, opened)


def main():
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "serve-tcp":
        serve_tcp(addr, port, sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "serve-udp":
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            s.recv(2048)
            with open(sys.argv[4], "a") as f:
                f.write("got\n")
    elif cmd == "connect":
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.settimeout(float(os.environ.get("NETPROBE_TIMEOUT", "1")))
        try:
            s.connect((addr, port))
        except OSError:
            sys.exit(1)
        s.close()
    elif cmd == "connect-flood":
        connect_flood(addr, port, sys.argv[4])
    elif cmd == "send-udp":
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        try:
            s.sendto(b"probe", (addr, port))
        except OSError:
            sys.exit(1)
    elif cmd == "stream":
        out, secs = sys.argv[4], float(sys.argv[5])
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect((addr, port))
        sent, end, chunk = 0, time.time() + secs, b"x" * 4096
        while time.time() < end:
            try:
                sent += s.send(chunk)
            except socket.timeout:
                pass
            except OSError:
                break
            with open(out, "w") as f:
                f.write("%d\n" % sent)
            time.sleep(0.01)


if __name__ == "__main__":
    main()
