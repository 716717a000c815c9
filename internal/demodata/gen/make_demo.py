#!/usr/bin/env python3
"""Rebuild internal/demodata/files from ../shared/data (see ../PROVENANCE.md).

Deterministic: same shared data in, byte-identical excerpt out. Selection
only; no record is edited. Run from the repository root:
    python3 internal/demodata/gen/make_demo.py
"""
import collections, gzip, json, os, shutil, sys

SHARED = os.environ.get("HUMANLLM_SHARED", os.path.join("..", "shared"))
DATA = os.path.join(SHARED, "data")
OUT = os.path.join("internal", "demodata", "files")

BLOGGER = [  # small authors with >= 8 posts of >= 300 characters; two latin-1
    "1107975.male.17.Student.Pisces.xml", "1000331.female.37.indUnk.Leo.xml",
    "1083777.male.27.Technology.Libra.xml", "1108003.male.36.Internet.Pisces.xml",
    "1068622.male.24.Government.Aquarius.xml", "1170834.female.27.Communications-Media.Sagittarius.xml",
    "1065973.female.23.indUnk.Virgo.xml", "1178991.male.24.Technology.Virgo.xml",
    "1007188.male.48.Religion.Libra.xml", "1074721.male.23.Student.Aquarius.xml",
    "1011153.female.27.Technology.Virgo.xml", "1097617.female.25.Communications-Media.Sagittarius.xml",
]


def gz_write(path, lines):
    # mtime=0 so the bytes do not depend on when the script ran
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        for line in lines:
            f.write(line)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "blogger"))
    for name in BLOGGER:
        shutil.copyfile(os.path.join(DATA, "blogger", name), os.path.join(OUT, "blogger", name))

    # Amazon: every review of the 40 most active reviewers (ties by id).
    with gzip.open(os.path.join(DATA, "amazon", "reviews_Musical_Instruments_5.json.gz"), "rb") as f:
        lines = f.readlines()
    per_user = collections.Counter(json.loads(l)["reviewerID"] for l in lines)
    users = {u for u, _ in sorted(per_user.items(), key=lambda kv: (-kv[1], kv[0]))[:40]}
    gz_write(os.path.join(OUT, "amazon_musical_instruments_top40.json.gz"),
             [l for l in lines if json.loads(l)["reviewerID"] in users])

    # Twitter: the tweets of users with >= 5 tweets, re-serialised one object
    # per line (the API v1.1 objects themselves are unchanged).
    with gzip.open(os.path.join(DATA, "twitter", "congresstweets_automator_test_tweets.json.gz"), "rb") as f:
        tweets = json.load(f)
    cnt = collections.Counter(t["user"]["id_str"] for t in tweets)
    keep = [t for t in tweets if cnt[t["user"]["id_str"]] >= 5]
    gz_write(os.path.join(OUT, "twitter_congress_active.jsonl.gz"),
             [(json.dumps(t, ensure_ascii=False, separators=(",", ":")) + "\n").encode() for t in keep])

    # Reddit: the two Pushshift NDJSON fixtures whole, and the CSV rows of
    # first 40 authors by name with 6-30 submissions.
    for name in ("test_comments.json", "test_submissions.json"):
        with open(os.path.join(DATA, "reddit", name), "rb") as f:
            gz_write(os.path.join(OUT, "reddit_" + name + ".gz"), f.readlines())
    with gzip.open(os.path.join(DATA, "reddit", "submission_2019.csv.gz"), "rt", newline="") as f:
        import csv
        rows = list(csv.reader(f))
    head, rows = rows[0], rows[1:]
    cnt = collections.Counter(r[3] for r in rows)
    ranked = sorted(a for a, n in cnt.items() if 6 <= n <= 30 and a != "[deleted]")
    top = set(ranked[:40])
    keep = [r for r in rows if r[3] in top]
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(keep)
    gz_write(os.path.join(OUT, "reddit_submission_2019_active.csv.gz"), [buf.getvalue().encode()])

    total = 0
    for root, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print(f"demo excerpt: {total} bytes")
    if total > 1_000_000:
        sys.exit("demo excerpt exceeds 1 MB")


if __name__ == "__main__":
    main()
