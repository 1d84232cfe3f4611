#!/usr/bin/env python3
# allocation-service tests — writes fromisoformat.json: texts and what Python 3.11's
# datetime.fromisoformat makes of them (the date part, or null when it refuses the text), the
# oracle for the service's `eta` parser. Deterministic; run with Python 3.11:
#   python3 tests/service/data/fromisoformat.py [count] > tests/service/data/fromisoformat.json
# SPDX-License-Identifier: MIT
import datetime
import itertools
import json
import random
import sys

assert sys.version_info[:2] == (3, 11), "the reference service's behaviour is Python 3.11's"


def oracle(text):
    try:
        return datetime.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return None


DATES = ["2011-01-02", "20110102", "2011-W01-2", "2011W012", "2011-W01", "2011W01", "2020-W53-7", "2021-W53-1",
         "2024-02-29", "2023-02-29", "0001-01-01", "9999-12-31", "0000-01-01", "2011-13-01", "2011-00-10",
         "2011-01-32", "2011-1-02", "2011-01-2", "201101-02", "2011-0102", "2011-W00-1", "2011-W01-0",
         "2011-W01-8", "2011-W1-2", "9999-W52-5", "9999-W52-6", "0001-W01-1", "0000-W01-1", "2004-W53-6"]
SEPARATORS = ["T", " ", "t", "x", "-", "0", "é", "…", "😀", "", "TT"]
TIMES = ["", "00", "0000", "00:00", "000000", "00:00:00", "23:59:59", "24:00:00", "23:60", "23:59:60", "12:30:45.5",
         "12:30:45,123", "12:30:45.123456", "12:30:45.1234567", "12:30:45.", "12:30:45.x", "1230", "123045.25",
         "12:3045", "1230:45", "12:30:45:5", "12:", "1", "12:3", "12:30:4", "12.5", "12,5", "1230.5"]
ZONES = ["", "Z", "z", "+00:00", "-00:00", "+05:30", "-0800", "+01", "+1", "+013", "+01:00:30", "+010030.5",
         "+23:59:59.999999", "+24:00", "-23:59", "+00:99", "+99", "Z ", "+01:00Z", "+01:00 ", "ZZ", "+", "-"]
HANDPICKED = ["2011-01-02", "2011-01-02T00:00:00", "2011-01-02T00:00:00.000000", "2011-01-02T00:00:00Z",
              "2011-01-02T00:00:00+00:00", "2011-01-02 00:00:00", "2011-11-04T00:05:23.283+00:00",
              "2011-11-04T00:05:23+04:00", "20111104T000523", "2011-W01-2T00:05:23.283", "2011-01-02T\x0010",
              "2011-01-02T10Z\x00x", "2011-01-02T10\x00", "", "2011", "2011-01", "201101", "2011-W01-",
              "2011-001", "2011001", "+2011-01-02", " 2011-01-02", "2011-01-02 ", "2011-01-02\n", "２０１１-01-02",
              "2011-01-02T10:00:00+01:00[Europe/Paris]", "2011-01-02T10:00:00 +01:00", "2011-01-02T10:00:00.+01"]
ALPHABET = "0123456789" * 3 + "-:.,+ZTW tzé\x00_"


def mutate(rng, text):
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(3)
        pos = rng.randint(0, len(chars))
        if op == 0 or not chars:
            chars.insert(pos, rng.choice(ALPHABET))
        elif op == 1:
            del chars[min(pos, len(chars) - 1)]
        else:
            chars[min(pos, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars)


def cases(count):
    seen = set()
    out = []

    def add(text):
        if text not in seen:
            seen.add(text)
            out.append(text)

    for text in HANDPICKED:
        add(text)
    combos = list(itertools.product(DATES, SEPARATORS, TIMES, ZONES))
    rng = random.Random(20111102)
    rng.shuffle(combos)
    valid = []
    for d, s, t, z in combos[: count // 2]:
        text = d + (s + t + z if t or z else "")
        add(text)
        if oracle(text) is not None:
            valid.append(text)
    while len(out) < count:
        add(mutate(rng, rng.choice(valid)))
    return out


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    rows = [json.dumps([text, oracle(text)], ensure_ascii=False) for text in cases(count)]
    print("[\n" + ",\n".join(rows) + "\n]")


if __name__ == "__main__":
    main()
