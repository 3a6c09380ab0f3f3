#!/usr/bin/env bash
# Installs the system packages sohoa needs to build, run and test, skipping those present.
# Idempotent; safe to run on every `make run` and `make test`.
set -euo pipefail

# tesseract and leptonica (with libclang for their bindings) for the workers; qpdf,
# poppler-utils (pdftotext, pdfsig, pdftoppm), libnss3-tools (certutil), openssl and
# python3-venv: the peers the tests compare against; fonts-dejavu-core: the appearance font;
# fonts-noto-core: the serif face of the generated sample pages; fonts-liberation2,
# fonts-freefont-ttf and fonts-dejavu-extra: the faces of the held-out pages nothing is tuned
# on (workers/tests/orientation.rs); fonts-jetbrains-mono: a tuning face with a dotted zero
# and a flat-topped 3 (workers/src/samples, the id reader's test); softhsm2: the PKCS#11 token the hardware-key tests seal
# with; jq: the README's examples (run by tests/readme.rs); ghostscript: what OCRmyPDF, the
# peer of the OCR conformance run (workers/tests/ocrmypdf.rs), renders and writes PDFs with;
# prometheus: its `promtool check metrics` checks `/metrics` (tests/api/metrics.rs);
# postgresql: the second index engine (scripts/postgres-start.sh starts its cluster for the tests);
# chromium: the browser the desk's browser test drives (tests/browser.rs); python3-yaml: reads
# compose.yaml for tests/compose.rs; zbar-tools: zbarimg reads back the QR code in a result's
# signature (tests/api/public.rs); nginx: compose.yaml's load balancer, run natively in front of
# the two replicas by tests/compose.rs.
packages=(build-essential pkg-config ca-certificates curl libclang-dev libtesseract-dev libleptonica-dev
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng qpdf poppler-utils libnss3-tools openssl python3-venv
  fonts-dejavu-core fonts-noto-core fonts-liberation2 fonts-freefont-ttf fonts-dejavu-extra fonts-jetbrains-mono softhsm2 jq ghostscript
  prometheus postgresql chromium python3-yaml zbar-tools nginx)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || { echo "error: cargo (Rust 1.89 or newer) is required: install it with rustup" >&2; exit 1; }
fi
