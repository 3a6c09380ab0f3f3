//! Tampered and ill-formed signatures: each must be reported invalid with the right reason.

use super::{env, problem_codes, sample_pdf, Env, Tsa};
use der::{Decode, Encode};
use std::path::PathBuf;

/// A freshly signed sample (seal unless `who` says otherwise) and its bytes.
fn signed(env: &Env, name: &str, who: &str) -> (PathBuf, Vec<u8>) {
    let input = env.path(&format!("{name}-in.pdf"));
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let out = env.path(&format!("{name}-signed.pdf"));
    env.sign(&input, &out, who, &[]);
    let bytes = std::fs::read(&out).unwrap();
    (out, bytes)
}

/// Writes `bytes` and returns the problem codes `sohoa verify` reports (exit status 1 asserted).
fn codes_of(env: &Env, name: &str, bytes: &[u8]) -> Vec<String> {
    let path = env.path(&format!("{name}-tampered.pdf"));
    std::fs::write(&path, bytes).unwrap();
    let (code, report) = env.verify(&path);
    assert_eq!(code, 1, "{name}: {report}");
    problem_codes(&report)
}

/// Offsets of the text inside `/ByteRange [` … `]` of the last signature.
fn byte_range_slot(pdf: &[u8]) -> (usize, usize) {
    let key = b"/ByteRange [";
    let start = pdf.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
    let end = start + pdf[start..].iter().position(|b| *b == b']').unwrap();
    (start, end)
}

fn rewrite_byte_range(pdf: &mut [u8], numbers: &str) {
    let (start, end) = byte_range_slot(pdf);
    assert!(numbers.len() <= end - start);
    let padded = format!("{numbers:<width$}", width = end - start);
    pdf[start..end].copy_from_slice(padded.as_bytes());
}

fn current_byte_range(pdf: &[u8]) -> Vec<usize> {
    let (start, end) = byte_range_slot(pdf);
    String::from_utf8_lossy(&pdf[start..end]).split_whitespace().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn a_flipped_byte_inside_the_signed_range_is_a_digest_mismatch() {
    let env = env();
    let (_, mut pdf) = signed(env, "flip", "seal");
    let at = pdf.windows(5).position(|w| w == b"QUYET").unwrap();
    pdf[at] = b'X';
    assert!(codes_of(env, "flip", &pdf).contains(&"digest_mismatch".to_string()));
}

#[test]
fn an_appended_update_that_changes_page_content_is_reported() {
    let env = env();
    let (_, mut pdf) = signed(env, "append", "official1");
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let page = *doc.get_pages().get(&1).unwrap();
    let content_id = doc.get_page_contents(page)[0];
    let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let prev = doc.xref_start;
    let text = b"BT /F1 20 Tf 72 760 Td (QUYET DINH So 999/QD-UBND) Tj ET";
    let obj_at = pdf.len();
    pdf.extend_from_slice(format!("{} 0 obj\n<< /Length {} >>\nstream\n", content_id.0, text.len()).as_bytes());
    pdf.extend_from_slice(text);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    let xref_at = pdf.len();
    pdf.extend_from_slice(
        format!(
            "xref\n{} 1\n{obj_at:010} 00000 n\r\ntrailer\n<< /Size {size} /Root {} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
            content_id.0, root.0
        )
        .as_bytes(),
    );
    let codes = codes_of(env, "append", &pdf);
    assert_eq!(codes, vec!["modified_after_signing".to_string()]);
}

#[test]
fn a_byte_range_that_leaves_bytes_uncovered_is_invalid() {
    let env = env();
    let (_, mut pdf) = signed(env, "uncovered", "seal");
    let br = current_byte_range(&pdf);
    rewrite_byte_range(&mut pdf, &format!("0 {} {} {}", br[1], br[2], br[3] - 20));
    assert!(codes_of(env, "uncovered", &pdf).contains(&"byte_range_uncovered".to_string()));
}

#[test]
fn a_gap_wider_than_the_contents_string_is_invalid() {
    let env = env();
    let (_, mut pdf) = signed(env, "gap", "seal");
    let br = current_byte_range(&pdf);
    rewrite_byte_range(&mut pdf, &format!("0 {} {} {}", br[1] - 10, br[2], br[3]));
    assert!(codes_of(env, "gap", &pdf).contains(&"byte_range_gap".to_string()));
}

#[test]
fn a_byte_range_with_one_range_is_invalid() {
    let env = env();
    let (_, mut pdf) = signed(env, "onerange", "seal");
    let len = pdf.len();
    rewrite_byte_range(&mut pdf, &format!("0 {len}"));
    assert!(codes_of(env, "onerange", &pdf).contains(&"byte_range_malformed".to_string()));
}

#[test]
fn a_swapped_certificate_is_invalid() {
    let env = env();
    let (_, mut pdf) = signed(env, "swap", "official1");
    let br = current_byte_range(&pdf);
    let (lt, gt) = (br[1], br[2] - 1);
    let hex_text = String::from_utf8_lossy(&pdf[lt + 1..gt]).to_string();
    let raw = hex::decode(&hex_text).unwrap();
    let mut reader = der::SliceReader::new(&raw).unwrap();
    let ci: cms::content_info::ContentInfo = der::Decode::decode(&mut reader).unwrap();
    let mut sd: cms::signed_data::SignedData = ci.content.decode_as().unwrap();
    let other_pem = std::fs::read(env.pki("official2.pem")).unwrap();
    let (_, other_der) = der::pem::decode_vec(&other_pem).unwrap();
    let other = x509_cert::Certificate::from_der(&other_der).unwrap();
    let mut certs: Vec<cms::cert::CertificateChoices> = sd.certificates.take().unwrap().0.into_vec();
    certs.retain(
        |c| matches!(c, cms::cert::CertificateChoices::Certificate(c) if c.tbs_certificate.subject == other.tbs_certificate.issuer),
    );
    certs.push(cms::cert::CertificateChoices::Certificate(other.clone()));
    sd.certificates = Some(cms::signed_data::CertificateSet(certs.try_into().unwrap()));
    let mut infos = sd.signer_infos.0.into_vec();
    infos[0].sid = cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
        issuer: other.tbs_certificate.issuer.clone(),
        serial_number: other.tbs_certificate.serial_number.clone(),
    });
    sd.signer_infos = cms::signed_data::SignerInfos(infos.try_into().unwrap());
    let ci = cms::content_info::ContentInfo { content_type: ci.content_type, content: der::Any::encode_from(&sd).unwrap() };
    let swapped = hex::encode_upper(ci.to_der().unwrap());
    let padded = format!("{swapped:0<width$}", width = gt - lt - 1);
    pdf[lt + 1..gt].copy_from_slice(padded.as_bytes());
    let codes = codes_of(env, "swap", &pdf);
    assert!(codes.contains(&"signing_certificate_mismatch".to_string()), "{codes:?}");
    assert!(codes.contains(&"signature_invalid".to_string()), "{codes:?}");
}

#[test]
fn a_signature_under_another_root_is_untrusted() {
    let env = env();
    let (path, _) = signed(env, "untrusted", "official1");
    let other = env.path("other-pki");
    let out = super::sohoa(&["pki", "demo", other.to_str().unwrap()]);
    assert!(out.status.success());
    let (code, report) = env.verify_with(&path, other.join("root.pem").to_str().unwrap());
    assert_eq!(code, 1);
    assert_eq!(problem_codes(&report), vec!["untrusted_root".to_string()]);
    assert!(env.pdfsig(&path).contains("Signature is Valid."), "the signature itself is intact");
}

#[test]
fn an_expired_certificate_is_invalid() {
    let env = env();
    let root_key = std::fs::read_to_string(env.pki("root.key")).unwrap();
    let now = chrono::Utc::now().timestamp();
    let subject =
        sohoa::pki::Subject { common_name: "Lê Văn Cũ", title: Some("Chủ tịch"), organization: "UBND phường Dịch Vọng" };
    let (cert, key) =
        sohoa::pki::issue_under_root(&root_key, sohoa::pki::KeyKind::EcdsaP256, &subject, now - 3 * 365 * 86400, now - 365 * 86400)
            .unwrap();
    std::fs::write(env.pki.join("expired.pem"), cert).unwrap();
    std::fs::write(env.pki.join("expired.key"), key).unwrap();
    let (path, _) = signed(env, "expired", "expired");
    let (code, report) = env.verify(&path);
    assert_eq!(code, 1);
    assert_eq!(problem_codes(&report), vec!["certificate_expired".to_string()]);
    let pdfsig = env.pdfsig(&path);
    assert!(!pdfsig.contains("Certificate is Trusted."), "{pdfsig}");
}

#[test]
fn a_time_stamp_over_other_data_is_invalid() {
    let env = env();
    let tsa = Tsa::start(env);
    let signer =
        sohoa::sign::FileSigner::from_files(env.pki.join("official1.key").as_path(), env.pki.join("official1.pem").as_path(), None)
            .unwrap();
    use sohoa::sign::Signer;
    let options = sohoa::sign::SignOptions {
        page: 1,
        appearance: None,
        reason: None,
        location: None,
        signing_time: chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset()),
        timestamp: true,
        certify: None,
    };
    let original = sample_pdf(false);
    let pending = sohoa::sign::begin(&original, signer.certificate(), signer.chain(), signer.algorithm(), options).unwrap();
    let signature = signer.sign(pending.signed_attributes()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token = rt.block_on(sohoa::sign::request_timestamp(&tsa.url, b"some other signature value")).unwrap();
    let pdf = pending.complete(&original, &signature, Some(&token)).unwrap();
    assert_eq!(codes_of(env, "tsother", &pdf), vec!["timestamp_mismatch".to_string()]);
}
