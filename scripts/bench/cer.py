"""Character error rate of recognised text against ground truth: edit distance over the
truth's length, whitespace runs collapsed, both sides NFC. Usage: cer.py TRUTH TEXT"""
import sys
import unicodedata


def norm(text):
    return unicodedata.normalize("NFC", " ".join(text.split()))


def cer(truth, text):
    a, b = norm(truth), norm(text)
    if not a:
        return 0.0 if not b else 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a):
        cur = [i + 1] + [0] * len(b)
        for j, cb in enumerate(b):
            cur[j + 1] = min(prev[j] + (ca != cb), prev[j + 1] + 1, cur[j] + 1)
        prev = cur
    return prev[len(b)] / len(a)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as t, open(sys.argv[2], encoding="utf-8") as r:
        print(f"{cer(t.read(), r.read()):.4f}")
