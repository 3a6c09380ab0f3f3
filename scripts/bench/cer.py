"""Character error rate of recognised text against ground truth: edit distance over the
truth's length, whitespace runs collapsed, both sides NFC. Usage: cer.py TRUTH TEXT"""
import sys
import unicodedata


def norm(text):
    return unicodedata.normalize("NFC", " ".join(text.split()))


def distance(a, b):
    """Levenshtein distance, bit-parallel over the characters of `a` (Myers 1999, in
    Hyyrö's form): one pass over `b` with integer operations on len(a)-bit vectors."""
    if not a:
        return len(b)
    mask, last = (1 << len(a)) - 1, 1 << (len(a) - 1)
    peq = {}
    for i, c in enumerate(a):
        peq[c] = peq.get(c, 0) | (1 << i)
    pv, mv, score = mask, 0, len(a)
    for c in b:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = (ph << 1) | 1
        mh <<= 1
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv & mask
    return score


def cer(truth, text):
    a, b = norm(truth), norm(text)
    if not a:
        return 0.0 if not b else 1.0
    return distance(a, b) / len(a)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as t, open(sys.argv[2], encoding="utf-8") as r:
        print(f"{cer(t.read(), r.read()):.4f}")
