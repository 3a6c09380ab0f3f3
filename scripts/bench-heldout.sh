#!/usr/bin/env bash
# Held-out OCR benchmark: pages nothing was tuned on (the six held-out faces, the three
# held-out layouts in turn, clean, ordinary and poor scans; docs/decisions.md, "Held-out
# pages"), read by `sohoa-worker scan --json`, the tesseract CLI (`tesseract IMG - -l vie`)
# and OCRmyPDF `--deskew --clean -l vie`, one process per page, the three in turn on each
# page, all with OMP_THREAD_LIMIT=1. Per scan quality: PAGES_PER_CELL documents of each face
# and 2 x PAGES_PER_CELL out-of-scope pages (news, advertisement, letter, invoice, menu,
# blank in turn, labelled `unknown`). Every 7th document page is also read turned clockwise
# by 90, 180 or 270 degrees in turn (the generator prints upright pages only: the script
# turns them, losslessly).
#
# Tables per scan quality, per face and per layout, on the upright pages; columns:
#   pages         upright pages in the row (documents and out-of-scope pages)
#   CER sohoa / CER tess / CER ocrmypdf
#                 mean character error rate against the generator's truth
#                 (scripts/bench/cer.py), over the pages that print text
#   vs peer       sohoa's CER over the better of the tesseract CLI's and OCRmyPDF's
#                 (issue 20's target: <= 0.7 on poor scans)
#   wrong turns   pages sohoa gave a quarter turn although they were upright (target 0)
#   s sohoa / s tess / s ratio
#                 CPU seconds (user + system) per page, one process per page, for sohoa
#                 and the tesseract CLI, and their ratio (target <= 1.0); CPU rather than
#                 wall time, which other work on the machine inflates
#   top-1         documents `scan` classified as their type
#   unknown       out-of-scope pages `scan` answered `unknown`
#   owner id      documents whose extracted owner_id is exactly the printed one
# Then the CPU per page when one process reads all the upright pages of a scan quality
# (`sohoa-worker ocr` and the tesseract CLI's list mode, each writing one searchable PDF):
# models loaded once, as the service's worker keeps its engines, so a model's start-up that
# one process per page pays again and again is counted once, for both tools alike; beside
# it the characters per page of the truth and of each tool's text, and the ratio of CPU per
# character given (a tool that drops the lines it cannot read spends less on the page).
# Then, for the turned copies: how many sohoa turned back right, and each tool's CER; and
# every page sohoa gave a wrong turn, upright or turned, named.
# Usage: scripts/bench-heldout.sh [SEED (default 20)] [PAGES_PER_CELL (default 3)]
# PAGES_PER_CELL=3 gives 72 upright and 8 turned pages, about 14 minutes on two busy cores.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-20}
per_cell=${2:-3}

need=()
for p in tesseract-ocr tesseract-ocr-vie ghostscript unpaper python3-venv fonts-liberation2 fonts-freefont-ttf fonts-dejavu-extra; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; fi
venv=target/bench-venv
[ -x "$venv/bin/ocrmypdf" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q ocrmypdf; }
cargo build --release -p sohoa-worker -q --bin sohoa-worker
worker=${CARGO_TARGET_DIR:-target}/release/sohoa-worker

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "command: scripts/bench-heldout.sh $seed $per_cell (seed $seed, $per_cell pages per face and scan quality)"
echo "tesseract $(tesseract --version 2>&1 | head -1 | cut -d' ' -f2), ocrmypdf $("$venv/bin/ocrmypdf" --version), $(nproc) cores"
"$worker" samples -o "$work/pages" --seed "$seed" --count "$((6 * per_cell))" --out-of-scope "$((2 * per_cell))" \
  --quality clean,ordinary,poor --face held-out --layout held-out >/dev/null
"$venv/bin/python" scripts/bench/heldout.py "$work/pages" "$worker" "$venv/bin/ocrmypdf" "$work/out" 7
