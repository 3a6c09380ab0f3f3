"""Writes N distinct grayscale A4 page PNGs (150 dpi) with text-like blocks, stdlib only."""
import random
import struct
import sys
import zlib


def png(width, height, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def words(rnd, count=48):
    """Ink blobs the size of printed words: 18 rows each, 20 to 90 pixels wide."""
    out = []
    for _ in range(count):
        w = rnd.randint(20, 90)
        out.append([bytes(rnd.randint(0, 80) if rnd.random() < 0.45 else 255 for _ in range(w)) for _ in range(18)])
    return out


def page(seed, width=1240, height=1754):
    rnd = random.Random(seed)
    glyphs = words(rnd)
    rows = [bytearray(b"\xff" * width) for _ in range(height)]
    y = 120
    while y < height - 120:
        x = 100
        while x < width - 200:
            word = rnd.choice(glyphs)
            w = len(word[0])
            for dy, line in enumerate(word):
                rows[y + dy][x:x + w] = line
            x += w + rnd.randint(8, 16)
        y += rnd.randint(30, 44)
    return png(width, height, rows)


if __name__ == "__main__":
    out, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        with open(f"{out}/page-{i:03}.png", "wb") as f:
            f.write(page(i))
