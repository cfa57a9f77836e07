"""A balanced sample of a `text,label` CSV: the first N texts of each label (in file order), shuffled with seed 0.
For measuring on real data without shipping it: python3 tools/sample_csv.py FILE N [LABEL ...] > sample.csv"""
import csv
import random
import sys

path, n, wanted = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
by_label = {}
with open(path, newline="", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if not wanted or row["label"] in wanted:
            by_label.setdefault(row["label"], []).append(row["text"])
rows = [(t, label) for label, texts in sorted(by_label.items()) for t in texts[:n]]
random.Random(0).shuffle(rows)
w = csv.writer(sys.stdout)
w.writerow(["text", "label"])
w.writerows(rows)
