#!/usr/bin/env python3
"""release_loss.py: ARX's loss metric of a release, counted from the
release itself and the ARX-format hierarchies, whatever tool made it and
whatever level each row stands at (local recoding).

  release_loss.py RELEASE.csv ROWS_IN QI,QI,... HIERARCHY_DIR [--sep ;]
      [--star-suppressed]

Each released value costs the share of its hierarchy's rows under its
label; a row that is not in the release (or, with --star-suppressed,
has every QI "*", as ARX writes a suppressed row) costs 1; each column is normalized to 0..1 and
cut to 10 decimals, and the columns combine by their geometric mean.
Prints "rows=N loss=X". Fails if a label stands at two levels for
different numbers of rows (its share would be ambiguous).
"""
import argparse
import collections
import csv
import math
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("release")
    ap.add_argument("rows_in", type=int)
    ap.add_argument("qis")
    ap.add_argument("hierarchies")
    ap.add_argument("--sep", default=",")
    ap.add_argument("--star-suppressed", action="store_true")
    a = ap.parse_args()
    qis = a.qis.split(",")
    with open(a.release, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter=a.sep)
                if not (a.star_suppressed and all(r[q] == "*" for q in qis))]
    n, out = a.rows_in, a.rows_in - len(rows)
    prod = 1.0
    for q in qis:
        with open("%s/adult_hierarchy_%s.csv" % (a.hierarchies, q),
                  encoding="utf-8", newline="") as f:
            h = list(csv.reader(f, delimiter=";"))
        share = {}
        for lv in range(len(h[0])):
            for lab, c in collections.Counter(x[lv] for x in h).items():
                if share.get(lab, c) != c:
                    sys.exit("release_loss: %s: label %r stands for %d and "
                             "%d rows" % (q, lab, share[lab], c))
                share[lab] = c
        lo = n / len(h)
        agg = sum(share[x[q]] / len(h) for x in rows) + out
        v = math.floor(max(0.0, (agg - lo) / (n - lo)) * 1e10) / 1e10
        prod *= (1 + v) ** (1 / len(qis))
    print("rows=%d loss=%.15g" % (len(rows), prod - 1))


if __name__ == "__main__":
    main()
