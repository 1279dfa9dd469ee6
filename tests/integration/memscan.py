#!/usr/bin/env python3
"""memscan.py PID HEX...: for each byte sequence (in hex), prints
"found HEX" or "absent HEX" after reading every readable mapping of the
process through /proc/PID/mem (as root). Exits 2 when the memory cannot be
read at all, so that "absent" can never mean "not looked"."""
import re
import sys


def regions(pid):
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (r...)", line)
            if m and not line.rstrip().endswith("[vvar]"):
                yield int(m.group(1), 16), int(m.group(2), 16)


def main():
    pid = int(sys.argv[1])
    needles = [bytes.fromhex(h) for h in sys.argv[2:]]
    found = set()
    scanned = 0
    tail = b""
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for start, end in regions(pid):
            tail = b""
            pos = start
            while pos < end:
                n = min(end - pos, 1 << 20)
                try:
                    mem.seek(pos)
                    chunk = mem.read(n)
                except OSError:
                    break
                data = tail + chunk
                for i, nd in enumerate(needles):
                    if nd in data:
                        found.add(i)
                scanned += len(chunk)
                tail = chunk[-64:]
                pos += n
    if scanned == 0:
        print("nothing could be read", file=sys.stderr)
        sys.exit(2)
    for i, nd in enumerate(needles):
        print(("found " if i in found else "absent ") + nd.hex())
    print(f"scanned {scanned} bytes", file=sys.stderr)


main()
