#!/usr/bin/env python3
"""Reachability probes for the test bed: every probe at once, bounded in time.

  reach.py listen FILE ADDR...   UDP listeners on ports 53 and 123 of each
                                 address; one line "src dst:port" per datagram
  reach.py probe SPEC...         from this namespace, each SPEC at once:
                                 tcp:ADDR:PORT, udp:ADDR:PORT or icmp:ADDR;
                                 prints "SPEC open|closed|sent"

A TCP probe is open when the connection opens or the host answers with a
reset (the packet got there); closed when it times out or has no route. An
ICMP probe is open when an echo reply comes back. A UDP probe only says
"sent": whether it arrived is what the target's listener wrote.
"""
import concurrent.futures
import socket
import subprocess
import sys
import threading

TIMEOUT = 1.5


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    try:
        s.connect((addr, port))
        return "open"
    except ConnectionRefusedError:
        return "open"
    except OSError:
        return "closed"
    finally:
        s.close()


def udp(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    try:
        s.sendto(b"reach", (addr, port))
    except OSError:
        pass
    finally:
        s.close()
    return "sent"


def icmp(addr):
    r = subprocess.run(["ping", "-c", "1", "-W", "1", addr],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "open" if r.returncode == 0 else "closed"


def probe(spec):
    kind, rest = spec.split(":", 1)
    if kind == "icmp":
        return icmp(rest)
    addr, port = rest.rsplit(":", 1)
    return tcp(addr, int(port)) if kind == "tcp" else udp(addr, int(port))


def listen(out, addrs):
    lock = threading.Lock()

    def serve(addr, port):
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.bind((addr, port))
        while True:
            _, src = s.recvfrom(2048)
            with lock, open(out, "a") as f:
                f.write("%s %s:%d\n" % (src[0], addr, port))
    threads = [threading.Thread(target=serve, args=(a, p), daemon=True)
               for a in addrs for p in (53, 123)]
    for t in threads:
        t.start()
    with open(out, "a"):
        pass
    for t in threads:
        t.join()


def main():
    if sys.argv[1] == "listen":
        listen(sys.argv[2], sys.argv[3:])
        return
    specs = sys.argv[2:]
    with concurrent.futures.ThreadPoolExecutor(max_workers=128) as ex:
        for spec, res in zip(specs, ex.map(probe, specs)):
            print(spec, res)


if __name__ == "__main__":
    main()
