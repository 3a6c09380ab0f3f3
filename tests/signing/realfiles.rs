//! Signatures as other tools write them, which `sohoa verify` must accept or name precisely:
//! BER from OpenSSL's streaming mode, RSASSA-PSS and SHA-512 from OpenSSL, and from pyHanko
//! RSASSA-PSS with SHA-384, a signing-certificate-v2 with policies and an explicit hash
//! algorithm, time-stamped by an OpenSSL TSA whose genTime carries milliseconds.

use super::{env, problem_codes, run, sample_pdf, Env};
use std::path::PathBuf;
use std::process::Command;

/// Signs the sample PDF with `openssl cms -sign` and `extra` options; returns the signed
/// PDF's path and the CMS as OpenSSL wrote it.
fn openssl_signed(env: &Env, name: &str, extra: &[&str]) -> (PathBuf, Vec<u8>) {
    openssl_signed_as(env, name, extra, |der| der)
}

/// [`openssl_signed`], the CMS re-encoded by `encode` before it goes into the PDF.
fn openssl_signed_as(env: &Env, name: &str, extra: &[&str], encode: fn(Vec<u8>) -> Vec<u8>) -> (PathBuf, Vec<u8>) {
    let pdf = sample_pdf(false);
    let prepared = sohoa::pdf::prepare(std::io::Cursor::new(&pdf), super::invisible_spec()).unwrap();
    let (content, cms) = (env.path(&format!("{name}-content.bin")), env.path(&format!("{name}.p7s")));
    let [before, after] = prepared.signed_parts();
    std::fs::write(&content, [&pdf[..], before, after].concat()).unwrap();
    let (signer, key, root) = (env.pki("official1.pem"), env.pki("official1.key"), env.pki("root.pem"));
    let mut args = vec!["cms", "-sign", "-binary", "-cades", "-signer", &signer, "-inkey", &key, "-certfile", &root, "-outform", "DER"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-in", content.to_str().unwrap(), "-out", cms.to_str().unwrap()]);
    run("openssl", &args);
    let cms = encode(std::fs::read(&cms).unwrap());
    let signed = [pdf.clone(), prepared.finish(&cms).unwrap()].concat();
    let out = env.path(&format!("{name}.pdf"));
    std::fs::write(&out, signed).unwrap();
    (out, cms)
}

/// OpenSSL's streamed (`-stream -indef`) output embeds the content; this re-encodes its
/// detached DER the way a streaming encoder writes it: the outer layers (ContentInfo, its
/// [0], SignedData) with indefinite lengths, what is inside them as it was.
fn indefinite(der: &[u8], depth: usize) -> Vec<u8> {
    let (tag, header, len) = tlv(der);
    let content = &der[header..header + len];
    if depth == 0 || tag & 0x20 == 0 {
        return der[..header + len].to_vec();
    }
    let mut out = vec![tag, 0x80];
    let mut rest = content;
    while !rest.is_empty() {
        let (_, h, l) = tlv(rest);
        out.extend(indefinite(&rest[..h + l], depth - 1));
        rest = &rest[h + l..];
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// Tag, header length and content length of the DER element at the start of `b`.
fn tlv(b: &[u8]) -> (u8, usize, usize) {
    match b[1] {
        n if n < 0x80 => (b[0], 2, n as usize),
        n => {
            let k = (n & 0x7f) as usize;
            (b[0], 2 + k, b[2..2 + k].iter().fold(0usize, |acc, x| acc << 8 | *x as usize))
        }
    }
}

#[test]
fn ber_cms_with_indefinite_lengths_verifies() {
    let env = env();
    let (pdf, cms) = openssl_signed_as(env, "ossl-ber", &["-md", "sha256"], |der| indefinite(&der, 3));
    assert_eq!(cms[..2], [0x30, 0x80], "an indefinite length");
    let (code, report) = env.verify(&pdf);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn openssl_pss_with_sha512_verifies() {
    let env = env();
    let pss = ["-md", "sha512", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:max"];
    let (pdf, _) = openssl_signed(env, "ossl-pss", &pss);
    let (code, report) = env.verify(&pdf);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn openssl_sha1_is_reported_as_unsupported_by_name() {
    let env = env();
    let (pdf, _) = openssl_signed(env, "ossl-sha1", &["-md", "sha1"]);
    let (code, report) = env.verify(&pdf);
    assert_eq!(code, 1, "{report}");
    assert_eq!(problem_codes(&report), ["unsupported_algorithm"], "{report}");
    let detail = report["signatures"][0]["problems"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("SHA-1"), "{detail}");
}

/// pyHanko signs with PSS and SHA-384; its signing-certificate-v2 is replaced by one with an
/// explicit SHA-512 hash and policies; the time-stamp comes from `openssl ts -reply`, asked
/// again until its genTime has a fraction of a second.
const PYHANKO_SCRIPT: &str = r#"
import asyncio, hashlib, os, subprocess, sys, tempfile
from asn1crypto import tsp
from pyhanko.sign import attributes, fields, signers, timestamps
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

pki, tsa_conf, src, dst = sys.argv[1:5]

class OpensslTsa(timestamps.TimeStamper):
    async def async_request_tsa_response(self, req):
        with tempfile.TemporaryDirectory() as d:
            query, reply = os.path.join(d, 'q.tsq'), os.path.join(d, 'r.tsr')
            with open(query, 'wb') as f:
                f.write(req.dump())
            for _ in range(20):
                subprocess.run(['openssl', 'ts', '-reply', '-config', tsa_conf, '-queryfile', query, '-out', reply],
                               check=True, capture_output=True)
                with open(reply, 'rb') as f:
                    resp = tsp.TimeStampResp.load(f.read())
                tst = resp['time_stamp_token']['content']['encap_content_info']['content'].parsed
                if tst['gen_time'].native.microsecond:
                    print('genTime', tst['gen_time'].contents.decode())
                    return resp
        raise RuntimeError('no genTime with a fraction')

async def ess_with_policies(self, dry_run=False):
    return tsp.SigningCertificateV2({
        'certs': [{'hash_algorithm': {'algorithm': 'sha512'},
                   'cert_hash': hashlib.sha512(self.signing_cert.dump()).digest()}],
        'policies': [{'policy_identifier': '1.2.3.4'}],
    })

attributes.SigningCertificateV2Provider.build_attr_value = ess_with_policies
signer = signers.SimpleSigner.load(os.path.join(pki, 'official1.key'), os.path.join(pki, 'official1.pem'),
                                   ca_chain_files=(os.path.join(pki, 'root.pem'),), prefer_pss=True)
meta = signers.PdfSignatureMetadata(field_name='Sig1', md_algorithm='sha384',
                                    subfilter=fields.SigSeedSubFilter.PADES)
with open(src, 'rb') as f, open(dst, 'wb') as out:
    signers.sign_pdf(IncrementalPdfFileWriter(f), meta, signer=signer, timestamper=OpensslTsa(), output=out)
"#;

fn openssl_tsa_config(env: &Env) -> PathBuf {
    let dir = env.path("ossl-tsa");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("serial"), "01\n").unwrap();
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\nserial = {serial}\ncrypto_device = builtin\n\
         signer_cert = {cert}\ncerts = {root}\nsigner_key = {key}\nsigner_digest = sha256\n\
         default_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\n\
         accuracy = secs:0, millisecs:500\nclock_precision_digits = 3\nordering = yes\ntsa_name = yes\n\
         ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        serial = dir.join("serial").display(),
        cert = env.pki("tsa.pem"),
        root = env.pki("root.pem"),
        key = env.pki("tsa.key"),
    );
    let path = dir.join("tsa.cnf");
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn pyhanko_pss_with_policies_and_an_openssl_millisecond_timestamp_verifies() {
    let env = env();
    let (script, input, output) = (env.path("pyhanko-realfile.py"), env.path("pyhanko-real-in.pdf"), env.path("pyhanko-real.pdf"));
    std::fs::write(&script, PYHANKO_SCRIPT).unwrap();
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let python = env.pyhanko.with_file_name("python");
    let config = openssl_tsa_config(env);
    let out = Command::new(&python)
        .arg(&script)
        .args([env.pki.as_path(), config.as_path(), input.as_path(), output.as_path()])
        .output()
        .expect("run the pyHanko venv's python");
    assert!(out.status.success(), "pyHanko: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("genTime") && printed.contains('.'), "{printed}");
    let (code, report) = env.verify(&output);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["signatures"][0]["level"], "B-T", "{report}");
}
