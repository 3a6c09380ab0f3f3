"""A batch for `sohoa import`: N one-page documents, each the sample PNG with two pixels
changed so that no two are the same content, and a sheet naming each one's owner, type,
number and issue date.  Usage: import-batch.py SAMPLE.png OUT_DIR N"""
import struct
import sys
import zlib

src, out, n = open(sys.argv[1], 'rb').read(), sys.argv[2], int(sys.argv[3])
if not 0 < n < 65536:
    sys.exit("N must be between 1 and 65535")
pos, chunks = 8, []
while pos < len(src):
    size = struct.unpack('>I', src[pos:pos + 4])[0]
    chunks.append((src[pos + 4:pos + 8], src[pos + 8:pos + 8 + size]))
    pos += 12 + size
width = struct.unpack('>I', chunks[0][1][:4])[0]
raw = zlib.decompress(b''.join(d for t, d in chunks if t == b'IDAT'))
first_idat = [c[0] for c in chunks].index(b'IDAT')


def chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)


with open(f'{out}/sheet.csv', 'w') as sheet:
    sheet.write('file,owner_id,doc_type,number,issue_date\n')
    for i in range(1, n + 1):
        page = bytearray(raw)
        row = 40 * (width + 1)
        page[row + 11], page[row + 12] = i // 256 + 1, i % 256
        body = b''.join(chunk(b'IDAT', zlib.compress(bytes(page), 6)) if k == first_idat else chunk(t, d)
                        for k, (t, d) in enumerate(chunks) if t != b'IDAT' or k == first_idat)
        open(f'{out}/p{i}.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + body)
        sheet.write(f'p{i}.png,0010900{i:05d},birth_certificate,{i}/2009,2009-03-01\n')
