#!/usr/bin/env python3
"""An independent check of a release, written apart from the C engine.

usage: check_release.py OUT.csv REPORT.json --k K [--l L --sensitive COL]
       --qi COL,COL... [--absent COL,COL...] [--encoding utf-8]

Recounts the equivalence classes over the quasi-identifier columns and
fails (exit 1, saying why) unless every class has at least k rows and, with
--l, at least l distinct sensitive values; unless the dropped columns are
absent; and unless the report's counts match the file.
"""
import argparse
import math
import collections
import csv
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("report")
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--l", type=int, default=0)
    ap.add_argument("--sensitive")
    ap.add_argument("--qi", required=True)
    ap.add_argument("--absent", default="")
    ap.add_argument("--encoding", default="utf-8")
    # suppressed = "star": the rows with every QI * are one class exempt
    # from k and l, whose sensitive values must be * if it is small.
    ap.add_argument("--stars", action="store_true")
    # The other models, recounted: entropy or recursive (c,l) diversity;
    # t-closeness against the SOURCE's distribution (--source FILE, with
    # its delimiter), since the release alone cannot show it.
    ap.add_argument("--l-model", default="distinct")
    ap.add_argument("--c", type=float, default=0)
    ap.add_argument("--t", type=float, default=0)
    ap.add_argument("--source")
    ap.add_argument("--source-sep", default=",")
    # t by hierarchical ground distance over this hierarchy (ARX format).
    # Counted here as a flow on the tree (each edge 1 / (2 * height),
    # carrying the surplus of the values below it), not by the greedy
    # bottom-up formula the engine uses: the two agree on a tree.
    ap.add_argument("--t-hierarchy")
    a = ap.parse_args()
    with open(a.out, encoding=a.encoding, newline="") as f:
        rows = list(csv.reader(f))
    head, data = rows[0], rows[1:]
    qi = [head.index(c) for c in a.qi.split(",")]
    problems = []
    for c in filter(None, a.absent.split(",")):
        if c in head:
            problems.append("dropped column %s is in the release" % c)
    classes = collections.Counter(tuple(r[i] for i in qi) for r in data)
    star = tuple("*" for _ in qi)
    starred = classes.pop(star, 0) if a.stars else 0
    if starred:
        srows = [r for r in data if tuple(r[i] for i in qi) == star]
        sens = [head.index(c) for c in (a.sensitive or "").split(",") if c]
        few = starred < a.k or (a.l and len({r[s] for r in srows for s in sens}) < a.l)
        if few and any(r[s] != "*" for r in srows for s in sens):
            problems.append("the %d starred rows show sensitive values" % starred)
    small = [n for n in classes.values() if n < a.k]
    if small:
        problems.append("%d classes smaller than k=%d" % (len(small), a.k))
    if a.l:
        s = head.index(a.sensitive)
        values = collections.defaultdict(set)
        for r in data:
            if starred and tuple(r[i] for i in qi) == star:
                continue
            values[tuple(r[i] for i in qi)].add(r[s])
        poor = [c for c, v in values.items() if len(v) < a.l]
        if poor:
            problems.append("%d classes with fewer than l=%d values" %
                            (len(poor), a.l))
    if a.l_model != "distinct" or a.t:
        s = head.index(a.sensitive)
        counts = collections.defaultdict(collections.Counter)
        for r in data:
            key = tuple(r[i] for i in qi)
            if starred and key == star:
                continue
            counts[key][r[s]] += 1
        glob = tree = None
        if a.t_hierarchy:
            tree = {r[0]: r for r in csv.reader(open(a.t_hierarchy,
                    encoding="utf-8", newline=""), delimiter=";")}
        if a.t:
            src = list(csv.reader(open(a.source, encoding="utf-8", newline=""),
                                  delimiter=a.source_sep))
            si = src[0].index(a.sensitive)
            g = collections.Counter(r[si] for r in src[1:])
            glob = {v: n / (len(src) - 1) for v, n in g.items()}
        bad = 0
        for key, c in counts.items():
            n = sum(c.values())
            if a.l_model == "entropy":
                h = -sum(x / n * math.log(x / n) for x in c.values())
                bad += h + 1e-12 < math.log(a.l)
            elif a.l_model == "recursive":
                r = sorted(c.values(), reverse=True)
                bad += len(r) < a.l or not r[0] < a.c * sum(r[a.l - 1:])
            if glob is not None and tree is not None:
                height = len(next(iter(tree.values()))) - 1
                emd = 0
                for lv in range(height):
                    surplus = collections.defaultdict(float)
                    for v, q in glob.items():
                        surplus[tree[v][lv]] += c.get(v, 0) / n - q
                    emd += sum(abs(x) for x in surplus.values()) / (2 * height)
                bad += emd > a.t + 1e-12
            elif glob is not None:
                emd = 0.5 * sum(abs(c.get(v, 0) / n - q) for v, q in glob.items())
                bad += emd > a.t + 1e-12
        if bad:
            problems.append("%d classes fail %s%s" % (
                bad, a.l_model, " or t=%g" % a.t if a.t else ""))
    rep = json.load(open(a.report))
    if rep["rows_out"] != len(data):
        problems.append("report says %d rows, file has %d" %
                        (rep["rows_out"], len(data)))
    if rep["equivalence_classes"] != len(classes) + (1 if starred else 0):
        problems.append("report says %d classes, file has %d" %
                        (rep["equivalence_classes"],
                         len(classes) + (1 if starred else 0)))
    if starred and rep.get("rows_starred", 0) > starred:
        problems.append("report says %d starred rows, file has %d" %
                        (rep["rows_starred"], starred))
    if data and rep["smallest_class"] != min(classes.values()):
        problems.append("report says smallest class %d, file has %d" %
                        (rep["smallest_class"], min(classes.values())))
    if rep["rows_in"] != (rep["rows_out"] - rep.get("rows_starred", 0) +
                          rep["rows_suppressed"] + rep["rows_rejected"]):
        problems.append("report rows do not add up")
    for p in problems:
        print("check_release: " + p)
    if not problems:
        print("check_release: %d rows in %d classes, smallest %d: k=%d%s "
              "holds" % (len(data), len(classes), min(classes.values()),
                         a.k, " l=%d" % a.l if a.l else ""))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
