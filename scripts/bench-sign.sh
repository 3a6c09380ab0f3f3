#!/usr/bin/env bash
# Signing and verification benchmark: sohoa (in process, examples/bench_sign.rs) against
# pyHanko's sign_pdf and validate_pdf_signature (in process, scripts/bench/sign.py) on the
# same ~700 KB PDF and RSA-2048 key, pdfsig (one process per file), and the floor set by
# hashing the file plus one RSA signature. Then the large case: a 60-page ~37 MB scanned
# PDF signed and verified by the CLIs, against sha256sum, with wall time and peak RSS.
# Usage: scripts/bench-sign.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-200}
scripts/install-deps.sh >/dev/null
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
scripts/install-test-tools.sh >/dev/null
py="${SOHOA_PYHANKO_VENV:-$HOME/.venv/sohoa-pyhanko}/bin/python"
cargo build --release -q --bin sohoa --example bench_sign
target="${CARGO_TARGET_DIR:-target}"
bench="$target/release/examples/bench_sign"
sohoa="$target/release/sohoa"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$sohoa pki demo "$work/pki" >/dev/null
pki="$work/pki"
$bench make "$work/small.pdf" --pages 3 --kb-per-page 230
$bench make "$work/large.pdf" --pages 60 --kb-per-page 620
mkdir -p "$work/nss"
certutil -N -d "sql:$work/nss" --empty-password
certutil -A -d "sql:$work/nss" -n root -t "CT,C,C" -i "$pki/root.pem"

key="$pki/official1.key" cert="$pki/official1.pem" root="$pki/root.pem"
small_kb=$(( $(stat -c %s "$work/small.pdf") / 1024 ))
sohoa_sign=$($bench sign "$work/small.pdf" "$key" "$cert" "$root" "$rounds" "$work/signed.pdf")
py_rounds=$(( rounds / 10 > 5 ? rounds / 10 : 5 ))
py_sign=$("$py" scripts/bench/sign.py sign "$work/small.pdf" "$key" "$cert" "$root" "$py_rounds")
floor=$($bench floor "$work/small.pdf" "$key" "$cert" "$rounds")
sohoa_verify=$($bench verify "$work/signed.pdf" "$root" "$rounds")
py_verify=$("$py" scripts/bench/sign.py validate "$work/signed.pdf" "$root" "$py_rounds")
per_process() { # runs per second of a command, 20 runs, one process each
  local start
  start=$(date +%s.%N)
  for _ in $(seq 20); do "$@" >/dev/null 2>&1 || true; done
  awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", 20 / (e - s) }'
}
pdfsig_verify=$(per_process pdfsig -nssdir "sql:$work/nss" "$work/signed.pdf")
# the same shape as pdfsig: the command-line tool, a process per file
cli_verify=$(per_process $sohoa verify "$work/signed.pdf" --trust "$root")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "Signing and verifying a ${small_kb} KB PDF, RSA-2048, one core, per second (higher is better)"
printf '%-34s %10s %10s\n' "" "per second" "sohoa is"
printf '%-34s %10.1f %10s\n' "sign: sohoa" "$sohoa_sign" ""
printf '%-34s %10.1f %9sx\n' "sign: pyHanko sign_pdf" "$py_sign" "$(ratio "$sohoa_sign" "$py_sign")"
printf '%-34s %10.1f %9sx\n' "floor: SHA-256 of file + RSA sign" "$floor" "$(ratio "$sohoa_sign" "$floor")"
printf '%-34s %10.1f %10s\n' "verify: sohoa" "$sohoa_verify" ""
printf '%-34s %10.1f %9sx\n' "verify: pyHanko validate" "$py_verify" "$(ratio "$sohoa_verify" "$py_verify")"
printf '%-34s %10.1f %9sx\n' "verify: pdfsig (process per file)" "$pdfsig_verify" "$(ratio "$sohoa_verify" "$pdfsig_verify")"
printf '%-34s %10.1f %9sx\n' "verify: sohoa CLI (process per file)" "$cli_verify" "$(ratio "$cli_verify" "$pdfsig_verify")"

measure() { # wall seconds and peak RSS (MB) of a command
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
  read -r secs kb < "$work/time"
  printf '%-40s %8.2f s %8.1f MB\n' "$label" "$secs" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
}
large_mb=$(( $(stat -c %s "$work/large.pdf") / 1048576 ))
echo
echo "Large scan: ${large_mb} MB, 60 pages (lower is better)"
label="sha256sum" measure sha256sum "$work/large.pdf"
label="sohoa sign (CLI)" measure $sohoa sign "$work/large.pdf" -o "$work/large-signed.pdf" --key "$key" --cert "$cert" --chain "$root"
label="sohoa verify (CLI)" measure $sohoa verify "$work/large-signed.pdf" --trust "$root"
label="pyHanko sign (sign.py, 1 round)" measure "$py" scripts/bench/sign.py sign "$work/large.pdf" "$key" "$cert" "$root" 1
label="pdfsig" measure pdfsig -nssdir "sql:$work/nss" "$work/large-signed.pdf"

# PAdES B-LTA: a PKI whose certificates name a CRL that `sohoa pki serve` publishes, and
# the demo TSA; both tools run as command-line programs, a process per file.
lta_pki="$work/lta-pki"
crl_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$sohoa pki demo "$lta_pki" --crl-url "http://127.0.0.1:$crl_port/root.crl" >/dev/null
$sohoa pki serve --dir "$lta_pki" --addr "127.0.0.1:$crl_port" >/dev/null 2>&1 &
crl_pid=$!
$sohoa tsa serve --addr 127.0.0.1:0 --cert "$lta_pki/tsa.pem" --key "$lta_pki/tsa.key" --chain "$lta_pki/root.pem" > "$work/tsa.out" 2>/dev/null &
tsa_pid=$!
trap 'kill $crl_pid $tsa_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q listening "$work/tsa.out" 2>/dev/null && break; sleep 0.1; done
tsa_url=$(sed -n 's/^listening on //p' "$work/tsa.out")
pyhanko="${SOHOA_PYHANKO_VENV:-$HOME/.venv/sohoa-pyhanko}/bin/pyhanko"
lkey="$lta_pki/official1.key" lcert="$lta_pki/official1.pem" lroot="$lta_pki/root.pem"
runs=10
mean() { # mean wall seconds of a command over $runs runs; a failed run fails the benchmark
  local start
  start=$(date +%s.%N)
  for i in $(seq $runs); do "$@" "$i" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; done
  awk -v s="$start" -v e="$(date +%s.%N)" -v n=$runs 'BEGIN { printf "%.3f", (e - s) / n }'
}
sohoa_lta() { $sohoa sign "$work/small.pdf" -o "$work/lta-$1.pdf" --key "$lkey" --cert "$lcert" --chain "$lroot" --level B-LTA --tsa "$tsa_url"; }
py_lta() {
  "$pyhanko" sign addsig --field Sig1 --use-pades-lta --trust-replace --trust "$lroot" --timestamp-url "$tsa_url" \
    pemder --key "$lkey" --cert "$lcert" --chain "$lroot" --no-pass "$work/small.pdf" "$work/py-lta-$1.pdf"
}
sohoa_bb() { $sohoa sign "$work/small.pdf" -o "$work/bb-$1.pdf" --key "$lkey" --cert "$lcert" --chain "$lroot"; }
sohoa_extend() { $sohoa ltv extend "$work/bb-$1.pdf" -o "$work/ext-$1.pdf" --tsa "$tsa_url"; }
py_extend() { cp "$work/bb-$1.pdf" "$work/pyext-$1.pdf" && "$pyhanko" sign ltvfix --field Signature1 --trust-replace --trust "$lroot" --timestamp-url "$tsa_url" "$work/pyext-$1.pdf"; }
sohoa_verify_lta() { $sohoa verify "$work/lta-1.pdf" --trust "$lroot" --offline; }
py_verify_lta() { "$pyhanko" sign validate --trust-replace --trust "$lroot" "$work/lta-1.pdf"; }
py_ades_lta() { "$pyhanko" sign adesverify --trust-replace --trust "$lroot" "$work/lta-1.pdf"; }
t_sign=$(mean sohoa_lta) t_py_sign=$(mean py_lta)
mean sohoa_bb >/dev/null
t_ext=$(mean sohoa_extend) t_py_ext=$(mean py_extend)
t_ver=$(mean sohoa_verify_lta) t_py_ver=$(mean py_verify_lta) t_py_ades=$(mean py_ades_lta)
echo
echo "PAdES B-LTA on the ${small_kb} KB PDF (DSS with CRL, document time-stamp from a local TSA), mean seconds per file"
echo "over $runs runs, each tool as a process per file (lower is better)"
printf '%-44s %8s %8s %9s\n' "" "sohoa" "pyHanko" "sohoa is"
printf '%-44s %8.3f %8.3f %8.1fx\n' "sign B-LTA (pyHanko: addsig --use-pades-lta)" "$t_sign" "$t_py_sign" "$(ratio "$t_py_sign" "$t_sign")"
printf '%-44s %8.3f %8.3f %8.1fx\n' "extend a B-B file (pyHanko: ltvfix)" "$t_ext" "$t_py_ext" "$(ratio "$t_py_ext" "$t_ext")"
printf '%-44s %8.3f %8.3f %8.1fx\n' "verify the B-LTA file (pyHanko: validate)" "$t_ver" "$t_py_ver" "$(ratio "$t_py_ver" "$t_ver")"
printf '%-44s %8s %8.3f %8.1fx\n' "  (pyHanko: adesverify, LTV mode)" "" "$t_py_ades" "$(ratio "$t_py_ades" "$t_ver")"
