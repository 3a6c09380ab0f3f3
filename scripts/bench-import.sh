#!/usr/bin/env bash
# Import throughput: N one-page documents (the sample birth notice, each changed in two
# pixels so that none is a duplicate) imported by `sohoa import` into a fresh installation
# (SQLite file, file:// archive); prints the command's documents/s and pages/s.
# Usage: scripts/bench-import.sh [N] [SOHOA_BINARY]
#
# With --ocr: N generated pages (`sohoa-worker samples`, clean, every type in turn) imported
# without a sheet by a served installation with W local workers, so that each page is read
# by OCR (import priority), classified and extracted; beside it, the OCR throughput of the
# same pages read by W `sohoa-worker ocr` processes at a time, with no queue.
# Usage: scripts/bench-import.sh --ocr [N] [W] [SOHOA_BINARY] [WORKER_BINARY]
set -euo pipefail
if [ "${1:-}" = "--ocr" ]; then
    exec "$(dirname "$0")/bench-import-ocr.sh" "${@:2}"
fi
n=${1:-300}
sohoa=${2:-target/release/sohoa}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/sohoa.toml" <<TOML
data_dir = "$dir/data"
index_url = "sqlite://$dir/data/sohoa.db"
archive_url = "file://$dir/data/archive"
policies_dir = "$root/policies"
tlog_key = "$dir/data/tlog.key"
seal_key = "$dir/data/pki/seal.key"
seal_cert = "$dir/data/pki/seal.pem"
seals_dir = "$dir/data/pki/seals"
TOML
"$sohoa" --config "$dir/sohoa.toml" init > /dev/null
mkdir "$dir/batch"
python3 - "$root/samples/scans/giay-chung-sinh.png" "$dir/batch" "$n" <<'PY'
import struct, sys, zlib
src, out, n = open(sys.argv[1], 'rb').read(), sys.argv[2], int(sys.argv[3])
pos, chunks = 8, []
while pos < len(src):
    size = struct.unpack('>I', src[pos:pos + 4])[0]
    chunks.append((src[pos + 4:pos + 8], src[pos + 8:pos + 8 + size]))
    pos += 12 + size
width = struct.unpack('>I', chunks[0][1][:4])[0]
raw = zlib.decompress(b''.join(d for t, d in chunks if t == b'IDAT'))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
with open(f'{out}/sheet.csv', 'w') as sheet:
    sheet.write('file,owner_id,doc_type,number,issue_date\n')
    for i in range(1, n + 1):
        page = bytearray(raw)
        row = 40 * (width + 1)
        page[row + 11], page[row + 12] = i // 256 + 1, i % 256
        body = b''.join(chunk(b'IDAT', zlib.compress(bytes(page), 6)) if t == b'IDAT' else chunk(t, d)
                        for t, d in chunks if t != b'IDAT' or d is chunks[[c[0] for c in chunks].index(b'IDAT')][1])
        open(f'{out}/p{i}.png', 'wb').write(b'\x89PNG\r\n\x1a\n' + body)
        sheet.write(f'p{i}.png,0010900{i:05d},birth_certificate,{i}/2009,2009-03-01\n')
PY
"$sohoa" --config "$dir/sohoa.toml" import --batch "$dir/batch" --csv "$dir/batch/sheet.csv" --by bench | tail -2
