"""pyHanko side of the signing benchmark, in process like bench_sign: signatures and
validations per second on the same file and key.
Usage: sign.py sign IN.pdf KEY CERT CHAIN N | sign.py validate IN.pdf ROOT N"""
import io
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

cmd = sys.argv[1]
if cmd == "sign":
    path, key, cert, chain, n = sys.argv[2:7]
    data = open(path, "rb").read()
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,))
    meta = signers.PdfSignatureMetadata(field_name="Bench", reason="Benchmark")
    start = time.monotonic()
    for _ in range(int(n)):
        out = io.BytesIO()
        signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer, output=out)
    print(f"{int(n) / (time.monotonic() - start):.1f}")
else:
    path, root, n = sys.argv[2:5]
    data = open(path, "rb").read()
    vc = ValidationContext(trust_roots=[load_cert_from_pemder(root)])
    start = time.monotonic()
    for _ in range(int(n)):
        reader = PdfFileReader(io.BytesIO(data))
        status = validate_pdf_signature(reader.embedded_signatures[-1], vc)
        assert status.bottom_line, status.pretty_print_details()
    print(f"{int(n) / (time.monotonic() - start):.1f}")
