#!/usr/bin/env python3
"""gen_vectors.py: writes vectors.txt, strings and their NFC form as
Python's unicodedata computes it, for tests/unit/test_nfc.c. One line per
vector: the input's UTF-8 in hex, a space, the NFC form's UTF-8 in hex.

    python3 tests/data/nfc/gen_vectors.py > tests/data/nfc/vectors.txt
"""
import random
import unicodedata as ud

random.seed(20261201)
pool = []
for cp in range(0xA0, 0x30000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    ch = chr(cp)
    if ud.category(ch) in ("Cn", "Cs", "Co", "Cc"):
        continue
    if ud.combining(ch) or ud.decomposition(ch) and not ud.decomposition(ch).startswith("<"):
        pool.append(cp)
pool += list(range(0x1100, 0x1113)) + list(range(0x1161, 0x1176)) + \
    list(range(0x11A8, 0x11C3)) + [0xAC00, 0xAC01, 0xD7A3, 0x304B, 0x306F,
                                   0x30CF, 0x3099, 0x309A, 0x4E00, 0x6587]
pool += [ord(c) for c in "aeiouAEIOUnNcC.-_ 0123456789"]
print("# NFC vectors from Unicode %s (Python unicodedata)" % ud.unidata_version)
for i in range(4000):
    s = "".join(chr(random.choice(pool)) for _ in range(random.randint(1, 8)))
    print(s.encode().hex(), ud.normalize("NFC", s).encode().hex())
