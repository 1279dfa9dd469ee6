#!/usr/bin/env python3
"""slow_uploads.py: many municipalities uploading at once, each slowly.

The load of issue 13's concurrency goal: every municipality of Japan (1,741)
with an upload open at the same time, each sending as over a busy IP-VPN
line (10 KB/s). Each municipality has its own certificate (issued by the
test's municipalities CA) and its own source address on loopback
(127.1.X.Y), as each city has its own network in a real site.

  slow_uploads.py certs PKI N OUT
      N certificates under OUT (OUT/CODE.crt, one shared key OUT/key.pem:
      the server checks certificates, not how keys were made), the codes
      in OUT/codes.txt (valid check digits), and the site file's
      municipality entries in OUT/munis.conf.
  slow_uploads.py run HOST PORT CACERT OUT SIZE RATE [PATH]
      one upload of SIZE bytes per municipality, all at once, each at RATE
      bytes a second; prints one JSON line: how many got 201, the other
      answers, the most uploads open at one time, the slowest upload.

Only loopback: HOST must be 127.0.0.1, and the sources are 127.1.0.0/16.
"""
import asyncio
import base64
import hashlib
import json
import os
import resource
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def codes(n):
    """n local government codes with the right check digit, none of them
    the integration tests' own."""
    out, taken = [], {"131156", "011002", "131016", "141003"}
    for pref in range(1, 48):
        for city in range(100, 1000):
            five = "%02d%03d" % (pref, city)
            s = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2)))
            code = five + str((11 - s % 11) % 10)
            if code not in taken:
                out.append(code)
            if len(out) == n:
                return out
    raise SystemExit("cannot make %d codes" % n)


def source(i):
    return "127.1.%d.%d" % (i // 250, i % 250 + 1)


def certs(pki, n, out):
    os.makedirs(out, exist_ok=True)
    key, csr = os.path.join(out, "key.pem"), os.path.join(out, "req.csr")
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", key], check=True)
    subprocess.run(["openssl", "req", "-new", "-key", key, "-subj",
                    "/CN=bench", "-out", csr], check=True)
    ca = os.path.join(pki, "muni-ca")
    all_codes = codes(n)

    def sign(i):
        code = all_codes[i]
        ext = os.path.join(out, code + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=clientAuth\n"
                    "subjectAltName=URI:urn:sekisho:muni:%s\n" % code)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA",
                        os.path.join(ca, "ca.crt"), "-CAkey",
                        os.path.join(ca, "ca.key"), "-set_serial",
                        str(0x5EC0000 + i), "-days", "30", "-subj",
                        "/CN=" + code, "-extfile", ext, "-out",
                        os.path.join(out, code + ".crt")],
                       check=True, stderr=subprocess.DEVNULL)
        os.unlink(ext)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        list(ex.map(sign, range(n)))
    with open(os.path.join(out, "codes.txt"), "w") as f:
        f.write("\n".join(all_codes) + "\n")
    with open(os.path.join(out, "munis.conf"), "w") as f:
        for i, code in enumerate(all_codes):
            f.write('  { id = "%s"; name = "Bench %d"; identity = '
                    '"urn:sekisho:muni:%s"; networks = [ "%s/32" ]; '
                    'datasets = [ "health-checkup" ]; },\n'
                    % (code, i, code, source(i)))


class Stats:
    def __init__(self):
        self.open = 0
        self.peak = 0
        self.answers = {}
        self.slowest = 0.0
        self.errors = {}


async def upload(i, code, args, body, digest, gate, stats):
    host, port, cacert, out, rate, path = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cacert)
    ctx.load_cert_chain(os.path.join(out, code + ".crt"),
                        os.path.join(out, "key.pem"))
    start = time.monotonic()
    try:
        async with gate:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                host, port, ssl=ctx, server_hostname="localhost",
                local_addr=(source(i), 0)), 60)
            writer.write(("PUT %s/%s/slow-%d.csv HTTP/1.1\r\n"
                          "Host: localhost\r\n"
                          "Content-Length: %d\r\n"
                          "Content-Digest: sha-256=:%s:\r\n\r\n"
                          % (path, "health-checkup", i, len(body), digest)
                          ).encode())
            await writer.drain()
        stats.open += 1
        stats.peak = max(stats.peak, stats.open)
        step = max(1, rate // 2)
        for off in range(0, len(body), step):
            writer.write(body[off:off + step])
            await writer.drain()
            await asyncio.sleep(step / rate)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 120)
        status = head.split(b" ", 2)[1].decode()
        writer.close()
        stats.open -= 1
    except Exception as e:  # counted and named, never hidden
        status = "error"
        name = type(e).__name__
        stats.errors[name] = stats.errors.get(name, 0) + 1
        stats.open = max(0, stats.open - 1)
    stats.answers[status] = stats.answers.get(status, 0) + 1
    stats.slowest = max(stats.slowest, time.monotonic() - start)


async def run(host, port, cacert, out, size, rate, path):
    if host != "127.0.0.1":
        raise SystemExit("loopback only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with open(os.path.join(out, "codes.txt")) as f:
        all_codes = f.read().split()
    body = (b"id,value\r\n" + os.urandom(size)).replace(b"\0", b"x")[:size]
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    stats = Stats()
    gate = asyncio.Semaphore(32)	# handshakes in flight, not uploads
    args = (host, port, cacert, out, rate, path)
    t0 = time.monotonic()
    await asyncio.gather(*(upload(i, c, args, body, digest, gate, stats)
                           for i, c in enumerate(all_codes)))
    print(json.dumps({"uploads": len(all_codes), "answers": stats.answers,
                      "errors": stats.errors, "peak_open": stats.peak,
                      "slowest_s": round(stats.slowest, 1),
                      "wall_s": round(time.monotonic() - t0, 1)}))


def main(argv):
    if len(argv) == 5 and argv[1] == "certs":
        certs(argv[2], int(argv[3]), argv[4])
    elif len(argv) in (8, 9) and argv[1] == "run":
        asyncio.run(run(argv[2], int(argv[3]), argv[4], argv[5],
                        int(argv[6]), int(argv[7]),
                        argv[8] if len(argv) == 9 else "/v1/uploads"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
