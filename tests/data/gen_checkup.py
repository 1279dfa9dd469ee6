#!/usr/bin/env python3
"""Generates a synthetic municipal health check-up CSV (no real people).

usage: gen_checkup.py ROWS SEED OUT.csv [--encoding cp932|utf-8] [--extra NOTE]

Columns follow the vault policy example: 宛名番号, 個人番号 (valid My Number
check digits), 氏名, 生年月日, 性別, 郵便番号, 住所, 身長, 診断名. CRLF line
ends and quoted fields, as municipal systems export them. --extra adds a
free-text 備考 column whose 7th row holds the given note.
"""
import random
import sys

SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村",
            "小林", "加藤", "髙橋", "山﨑", "吉田", "山田"]
GIVEN = ["太郎", "花子", "一郎", "陽子", "健", "美咲", "翔", "由美", "誠", "恵"]
TOWNS = ["中野区中央", "中野区本町", "中野区弥生町", "中野区南台", "中野区東中野"]
DIAG = ["異常なし", "要経過観察", "要精密検査", "高血圧症", "脂質異常症",
        "糖尿病", "肝機能障害", "貧血"]


def mynumber(rng):
    d = [rng.randrange(10) for _ in range(11)]
    s = sum(d[10 - (n - 1)] * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = s % 11
    return "".join(map(str, d)) + str(0 if r <= 1 else 11 - r)


def main():
    rows, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    enc = "cp932"
    extra = None
    args = sys.argv[4:]
    while args:
        if args[0] == "--encoding":
            enc = args[1]
        elif args[0] == "--extra":
            extra = args[1]
        args = args[2:]
    rng = random.Random(seed)
    head = ["宛名番号", "個人番号", "氏名", "生年月日", "性別", "郵便番号",
            "住所", "身長", "診断名"] + (["備考"] if extra is not None else [])
    with open(out, "w", encoding=enc, newline="") as f:
        f.write(",".join(head) + "\r\n")
        for i in range(rows):
            y = rng.randrange(1930, 2006)
            m = rng.randrange(1, 13)
            d = rng.randrange(1, 29)
            cells = ["%08d" % (i + 1), mynumber(rng),
                     '"%s %s"' % (rng.choice(SURNAMES), rng.choice(GIVEN)),
                     "%04d-%02d-%02d" % (y, m, d), rng.choice("男女"),
                     "164-%04d" % rng.randrange(10000),
                     '"%s%d-%d"' % (rng.choice(TOWNS), rng.randrange(1, 7),
                                    rng.randrange(1, 30)),
                     "%.1f" % rng.uniform(140, 190), rng.choice(DIAG)]
            if extra is not None:
                cells.append('"%s"' % (extra if i == 6 else "特記なし"))
            f.write(",".join(cells) + "\r\n")


if __name__ == "__main__":
    main()
