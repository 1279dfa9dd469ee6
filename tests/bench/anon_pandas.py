#!/usr/bin/python3
"""The peer for the vault benchmark: the same job in pandas (Debian's
python3-pandas), timed in the same run as sekisho-vault.

usage: anon_pandas.py checkup IN.csv OUT.csv
       anon_pandas.py adult ADULT.csv HIERARCHY_DIR OUT.csv

checkup: the issue's example policy (drop identifiers, age band of 5 years
at 2026-04-01 top-coded at 90, sex kept, postal code to 3 characters,
height in bands of 5, diagnosis kept), k = 5 with l = 2 on the diagnosis by
suppression, shuffled, written as UTF-8. adult: the eight quasi-identifiers
generalized by the ARX hierarchies at the levels of adult-k5.policy, k = 5
by suppression. Prints the rows written.
"""
import sys

import numpy as np
import pandas as pd


def suppress(df, qi, k, sensitive=None, l=0):
    g = df.groupby(qi, sort=False, dropna=False)
    keep = g[qi[0]].transform("size") >= k
    if sensitive is not None and l > 1:
        keep &= g[sensitive].transform("nunique") >= l
    return df[keep]


def checkup(src, out):
    df = pd.read_csv(src, encoding="cp932", dtype=str, keep_default_na=False)
    df = df.drop(columns=["宛名番号", "個人番号", "氏名", "住所"])
    born = pd.to_datetime(df["生年月日"], format="%Y-%m-%d")
    age = 2026 - born.dt.year - ((born.dt.month > 4) |
                                 ((born.dt.month == 4) & (born.dt.day > 1)))
    lo = (age // 5) * 5
    df["生年月日"] = np.where(age >= 90, "90+",
                          lo.astype(str) + "-" + (lo + 4).astype(str))
    df["郵便番号"] = df["郵便番号"].str.slice(0, 3)
    h = (pd.to_numeric(df["身長"]) // 5 * 5).astype(int)
    df["身長"] = h.astype(str) + "-" + (h + 4).astype(str)
    df = suppress(df, ["生年月日", "性別", "郵便番号"], 5, "診断名", 2)
    df = df.sample(frac=1)
    df.to_csv(out, index=False, encoding="utf-8")
    return len(df)


LEVELS = {"age": 2, "race": 1, "marital-status": 1, "education": 2,
          "native-country": 1, "workclass": 1, "occupation": 1}


def adult(src, hdir, out):
    df = pd.read_csv(src, sep=";", dtype=str, keep_default_na=False)
    for col, level in LEVELS.items():
        h = pd.read_csv("%s/adult_hierarchy_%s.csv" % (hdir, col), sep=";",
                        header=None, dtype=str, keep_default_na=False)
        df[col] = df[col].map(dict(zip(h[0], h[level])))
    qi = [c for c in df.columns if c != "salary-class"]
    df = suppress(df, qi, 5).sample(frac=1)
    df.to_csv(out, index=False)
    return len(df)


if __name__ == "__main__":
    if sys.argv[1] == "checkup":
        print(checkup(sys.argv[2], sys.argv[3]))
    else:
        print(adult(sys.argv[2], sys.argv[3], sys.argv[4]))
