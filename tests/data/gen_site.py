#!/usr/bin/env python3
"""Writes a site configuration with N municipalities (every one in Japan is
1,741), each with NETS IPv4 networks, for firewall scale measurements.

usage: gen_site.py N NETS OUT.conf
Codes are made-up five-digit prefixes with a correct check digit.
"""
import sys


def code(n):
    d = "%05d" % n
    s = sum(int(c) * w for c, w in zip(d, (6, 5, 4, 3, 2)))
    return d + str((11 - s % 11) % 10)


def main():
    n, nets, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(out, "w") as f:
        f.write('''site: { name = "scale test"; };
ca: { municipalities = "m"; recipients = "r"; internal = "i"; };
hosts: {
  receiver: { identity = "urn:sekisho:host:receiver";
    external: { address = "10.255.0.1"; port = 8443; };
    internal: { address = "192.0.2.1"; port = 9443; }; };
  vault: { identity = "urn:sekisho:host:vault"; address = "192.0.2.2"; };
  sender: { identity = "urn:sekisho:host:sender";
    external: { address = "198.51.100.1"; port = 8444; };
    internal: { address = "192.0.2.6"; port = 9444; }; };
};
datasets = ( { id = "d"; } );
municipalities = (
''')
        for i in range(n):
            c = code(1001 + i)
            ns = ", ".join('"10.%d.%d.0/24"' % (i // 64, (i % 64) * 4 + k)
                           for k in range(nets))
            f.write('  { id = "%s"; identity = "urn:sekisho:muni:%s"; '
                    'networks = [ %s ]; datasets = [ "d" ]; }%s\n'
                    % (c, c, ns, "," if i + 1 < n else ""))
        f.write(");\n")


if __name__ == "__main__":
    main()
