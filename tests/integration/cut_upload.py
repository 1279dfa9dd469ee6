#!/usr/bin/env python3
"""cut_upload.py: a PUT over mutual TLS that announces the whole file and
sends only its first bytes, then either closes the connection (a line cut
off) or stalls (a line that hangs), as a municipality's upload over a
failing IP-VPN line does. Prints the HTTP status when the gateway answers
before the end, else "cut".

usage: cut_upload.py HOST PORT CERT KEY CA PATH FILE SEND close|stall
"""
import socket
import ssl
import sys


def main():
    host, port, cert, key, ca, path, name, send, how = sys.argv[1:10]
    send = int(send)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.check_hostname = False
    with open(name, "rb") as f:
        f.seek(0, 2)
        total = f.tell()
        f.seek(0)
        raw = socket.create_connection((host, int(port)))
        s = ctx.wrap_socket(raw)
        s.sendall(("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
                   "\r\n" % (path, host, total)).encode())
        left = send
        while left > 0:
            b = f.read(min(left, 1 << 20))
            if not b:
                break
            s.sendall(b)
            left -= len(b)
    if how == "close":
        # No close_notify (SSLSocket.shutdown is the socket's own): the
        # line is gone, not the client done.
        s.shutdown(socket.SHUT_RDWR)
        s.close()
        print("cut")
        return
    s.settimeout(60)
    try:
        head = s.recv(4096).decode("latin-1")
    except (socket.timeout, ssl.SSLError, OSError):
        print("cut")
        return
    print(head.split(" ")[1] if head.startswith("HTTP/1.1 ") else "cut")
    for line in head.split("\r\n"):
        if line.lower().startswith("upload-offset:"):
            print(line.split(":", 1)[1].strip())


if __name__ == "__main__":
    main()
