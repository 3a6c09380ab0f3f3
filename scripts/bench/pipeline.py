"""Pipeline driver for scripts/bench-pipeline.sh: uploads COUNT copies of a page (each made
distinct by a suffix after the PNG's end, so each is a scan of its own) over the replicas, 8
at a time, then follows every scan until it is sealed (or unsealed, or failed). Prints one
table tail: scans, sealed, scans/s, p50 and p99 upload→sealed.
Usage: pipeline.py TOKENS_TXT COUNT PAGE_PNG BASE [BASE...]"""

import concurrent.futures
import json
import sys
import time
import urllib.request

tokens_file, count, page_file, bases = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
tokens = dict(line.strip().split("=", 1) for line in open(tokens_file) if "=" in line)
scanner = next(v for k, v in tokens.items() if k.lower() == "scanner")
page = open(page_file, "rb").read()
FINAL = {"sealed", "unsealed", "failed"}


def call(method, url, body=None, content_type=None):
    request = urllib.request.Request(url, data=body, method=method, headers={"Authorization": f"Bearer {scanner}"})
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")


def dossier(n):
    body = {"procedure": "criminal-record-certificate",
            "applicant": {"kind": "citizen", "id": "079086000123", "name": f"Phạm Thị Lan {n}"}}
    return call("POST", f"{bases[n % len(bases)]}/api/v1/dossiers", json.dumps(body).encode(), "application/json")["code"]


codes = [dossier(n) for n in range(max(2, count // 10))]
began = time.monotonic()


def upload(n):
    base = bases[n % len(bases)]
    url = f"{base}/api/v1/dossiers/{codes[n % len(codes)]}/components/identity_card/scans"
    sent = time.monotonic()
    answer = call("POST", url, page + f"bench-{n}".encode(), "image/png")
    return answer["scan"]["id"], sent, base


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    scans = list(pool.map(upload, range(count)))

ended = {}
deadline = time.monotonic() + max(600, count * 10)
while len(ended) < count and time.monotonic() < deadline:
    for scan, _sent, base in scans:
        if scan not in ended:
            status = call("GET", f"{base}/api/v1/scans/{scan}")["status"]
            if status in FINAL:
                ended[scan] = (status, time.monotonic())
    time.sleep(0.2)

sealed = [(ended[scan][1] - sent) for scan, sent, _ in scans if ended.get(scan, ("",))[0] == "sealed"]
finals = sorted(ended.values(), key=lambda e: e[1])
span = (finals[-1][1] - began) if finals else float("nan")
sealed.sort()


def pct(q):
    return sealed[min(len(sealed) - 1, int(q * len(sealed)))] if sealed else float("nan")


print(f"{count} | {len(sealed)} | {len(sealed) / span:.2f} | {pct(0.50):.1f} s | {pct(0.99):.1f} s |")
