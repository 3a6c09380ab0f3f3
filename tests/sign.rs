//! Signing and verification against real peers: pdfsig (poppler + NSS), pyHanko, openssl.
//! Tampering tests are in signing/tamper.rs; all run in this one test binary.

mod common;
mod signing;

use signing::{env, run, sample_pdf, sohoa, Tsa};

#[test]
fn seal_on_a_classic_xref_pdf_validates_with_pdfsig_pyhanko_and_sohoa() {
    let env = env();
    let input = env.path("seal-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let output = env.path("seal-out.pdf");
    env.sign(&input, &output, "seal", &["--reason", "Bản sao điện tử", "--location", "Hà Nội"]);

    let signed = std::fs::read(&output).unwrap();
    let original = std::fs::read(&input).unwrap();
    assert_eq!(&signed[..original.len()], &original[..], "an incremental update keeps the original bytes");

    let pdfsig = env.pdfsig(&output);
    assert!(pdfsig.contains("Signature is Valid."), "{pdfsig}");
    assert!(pdfsig.contains("Certificate is Trusted."), "{pdfsig}");
    assert!(pdfsig.contains("ETSI.CAdES.detached"), "{pdfsig}");
    let py = env.pyhanko_validate(&output);
    assert!(py.contains("INTACT:TRUSTED"), "{py}");
    let (code, report) = env.verify(&output);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["signatures"][0]["reason"], "Bản sao điện tử");
    assert_eq!(report["signatures"][0]["level"], "B-B");
}

#[test]
fn ecdsa_visible_signature_on_an_xref_stream_pdf_validates_with_peers() {
    let env = env();
    let input = env.path("modern-in.pdf");
    std::fs::write(&input, sample_pdf(true)).unwrap();
    let output = env.path("modern-out.pdf");
    env.sign(&input, &output, "official2", &["--visible", "1,330,60,230,70"]);

    let tail = String::from_utf8_lossy(&std::fs::read(&output).unwrap()[..]).rsplit("startxref").nth(1).unwrap_or_default().to_string();
    assert!(tail.contains("/Type /XRef"), "the update uses an xref stream like the original");
    let pdfsig = env.pdfsig(&output);
    assert!(pdfsig.contains("Signature is Valid.") && pdfsig.contains("Certificate is Trusted."), "{pdfsig}");
    let py = env.pyhanko_validate(&output);
    assert!(py.contains("INTACT:TRUSTED"), "{py}");
    assert_eq!(env.verify(&output).0, 0);
}

#[test]
fn three_signatures_each_keep_the_earlier_ones_valid() {
    let env = env();
    let input = env.path("multi-0.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let (s1, s2, s3) = (env.path("multi-1.pdf"), env.path("multi-2.pdf"), env.path("multi-3.pdf"));
    env.sign(&input, &s1, "seal", &[]);
    env.sign(&s1, &s2, "official1", &["--visible", "1,60,60,220,70"]);
    env.sign(&s2, &s3, "official2", &["--visible", "1,330,60,220,70"]);

    let pdfsig = env.pdfsig(&s3);
    assert_eq!(pdfsig.matches("Signature is Valid.").count(), 3, "{pdfsig}");
    assert_eq!(pdfsig.matches("Certificate is Trusted.").count(), 3, "{pdfsig}");
    let py = env.pyhanko_validate(&s3);
    assert_eq!(py.matches("INTACT:TRUSTED").count(), 3, "{py}");
    let (code, report) = env.verify(&s3);
    assert_eq!(code, 0, "{report}");
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3);
    assert!(sigs[0]["changes_after"].as_array().unwrap().iter().all(|c| c["allowed"] == true));
    assert_eq!(sigs[2]["signed_bytes"], sigs[2]["file_bytes"]);
}

#[test]
fn b_t_signature_carries_a_time_stamp_that_peers_accept() {
    let env = env();
    let tsa = Tsa::start(env);
    let input = env.path("bt-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let output = env.path("bt-out.pdf");
    env.sign(&input, &output, "official1", &["--level", "B-T", "--tsa", &tsa.url]);

    let (code, report) = env.verify(&output);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["signatures"][0]["level"], "B-T");
    assert!(report["signatures"][0]["timestamp_time"].as_str().unwrap().ends_with("+07:00"));
    let py = env.pyhanko_validate(&output);
    assert!(py.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"), "{py}");
    let pdfsig = env.pdfsig(&output);
    assert!(pdfsig.contains("Signature is Valid."), "{pdfsig}");
}

#[test]
fn tsa_tokens_verify_with_openssl_ts() {
    let env = env();
    let tsa = Tsa::start(env);
    let (data, query, reply) = (env.path("ts-data.txt"), env.path("ts.tsq"), env.path("ts.tsr"));
    std::fs::write(&data, "Quyết định số 123/QĐ-UBND").unwrap();
    run("openssl", &["ts", "-query", "-data", data.to_str().unwrap(), "-sha256", "-cert", "-out", query.to_str().unwrap()]);
    run(
        "curl",
        &[
            "-sf",
            "-H",
            "Content-Type: application/timestamp-query",
            "--data-binary",
            &format!("@{}", query.display()),
            "-o",
            reply.to_str().unwrap(),
            &tsa.url,
        ],
    );
    let out = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-data", data.to_str().unwrap(), "-in", reply.to_str().unwrap(), "-CAfile", &env.pki("root.pem")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("Verification: OK"), "{text}{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn pdfs_signed_by_pyhanko_verify_with_sohoa() {
    let env = env();
    let input = env.path("py-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let (p1, p2) = (env.path("py-1.pdf"), env.path("py-2.pdf"));
    env.pyhanko_sign(&input, &p1, "official1", "Sig1");
    env.pyhanko_sign(&p1, &p2, "official2", "Sig2");
    let (code, report) = env.verify(&p2);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["signatures"].as_array().unwrap().len(), 2);
    // pyHanko then sohoa on the same file: both signatures stay valid for both tools.
    let p3 = env.path("py-3.pdf");
    env.sign(&p2, &p3, "seal", &[]);
    assert_eq!(env.verify(&p3).0, 0);
    assert_eq!(env.pyhanko_validate(&p3).matches("INTACT:TRUSTED").count(), 3);
}

#[test]
fn cms_made_by_openssl_verifies_with_sohoa() {
    let env = env();
    let pdf = sample_pdf(false);
    let spec = signing::invisible_spec();
    let prepared = sohoa::pdf::prepare(std::io::Cursor::new(&pdf), spec).unwrap();
    let (content, cms) = (env.path("ossl-content.bin"), env.path("ossl.p7s"));
    let [before, after] = prepared.signed_parts();
    std::fs::write(&content, [&pdf[..], before, after].concat()).unwrap();
    run(
        "openssl",
        &[
            "cms",
            "-sign",
            "-binary",
            "-cades",
            "-md",
            "sha256",
            "-in",
            content.to_str().unwrap(),
            "-signer",
            &env.pki("official1.pem"),
            "-inkey",
            &env.pki("official1.key"),
            "-certfile",
            &env.pki("root.pem"),
            "-outform",
            "DER",
            "-out",
            cms.to_str().unwrap(),
        ],
    );
    let signed = [pdf.clone(), prepared.finish(&std::fs::read(&cms).unwrap()).unwrap()].concat();
    let out = env.path("ossl-signed.pdf");
    std::fs::write(&out, signed).unwrap();
    let (code, report) = env.verify(&out);
    assert_eq!(code, 0, "{report}");
}

#[test]
fn exit_codes_distinguish_invalid_from_unreadable() {
    let env = env();
    let unsigned = env.path("unsigned.pdf");
    std::fs::write(&unsigned, sample_pdf(false)).unwrap();
    assert_eq!(env.verify(&unsigned).0, 1, "no signature is not a valid signed document");
    let garbage = env.path("garbage.pdf");
    std::fs::write(&garbage, b"%PDF-1.7\nthis is not a pdf").unwrap();
    assert_eq!(env.verify(&garbage).0, 2);
    let encrypted = env.path("encrypted.pdf");
    run("qpdf", &["--encrypt", "user", "owner", "256", "--", unsigned.to_str().unwrap(), encrypted.to_str().unwrap()]);
    assert_eq!(env.verify(&encrypted).0, 2);
    let out = sohoa(&[
        "sign",
        encrypted.to_str().unwrap(),
        "-o",
        env.path("x.pdf").to_str().unwrap(),
        "--key",
        &env.pki("seal.key"),
        "--cert",
        &env.pki("seal.pem"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("encrypted"));
}

#[test]
fn visible_signature_draws_the_image_and_extractable_vietnamese_text() {
    let env = env();
    let input = env.path("visible-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    // the demo's blue hand signature and red seal (`sohoa pki demo`)
    let (png, seal) = (env.pki("official1.png"), env.pki("seal.png"));
    let output = env.path("visible-out.pdf");
    let images = ["--image", png.as_str(), "--seal-image", seal.as_str()];
    env.sign(&input, &output, "official1", &[&["--visible", "1,320,560,240,110"][..], &images].concat());
    assert_eq!(env.verify(&output).0, 0);
    assert!(env.pyhanko_validate(&output).contains("INTACT:TRUSTED"));

    let text = run("pdftotext", &[output.to_str().unwrap(), "-"]);
    assert!(text.contains("Ký bởi: Nguyễn Văn An"), "{text}");
    assert!(text.contains("Chức vụ: Chủ tịch"), "{text}");
    assert!(text.contains("+07:00"), "{text}");
    let fonts = run("pdffonts", &[output.to_str().unwrap()]);
    assert!(fonts.lines().any(|l| l.contains("CID TrueType") && l.contains("Identity-H") && l.contains("yes yes yes")), "{fonts}");

    // At 72 dpi one point is one pixel; the widget spans x 320..560, y 172..282 from the top.
    let prefix = env.path("visible-render");
    run("pdftoppm", &["-r", "72", "-png", "-singlefile", output.to_str().unwrap(), prefix.to_str().unwrap()]);
    let page = image::open(prefix.with_extension("png")).unwrap().to_rgb8();
    let (mut blue, mut red, mut dark, mut outside) = (Vec::new(), Vec::new(), 0, 0);
    for (x, y, px) in page.enumerate_pixels() {
        let [r, g, b] = px.0;
        let inside = (320..560).contains(&x) && (172..282).contains(&y);
        if inside && b > 130 && r < 100 && g < 120 {
            blue.push(x);
        } else if inside && r > 170 && g < 110 && b < 110 {
            red.push(x);
        } else if inside && r < 100 && g < 100 && b < 100 {
            dark += 1;
        } else if !inside && y > 120 && (r < 200 || g < 200 || b < 200) {
            outside += 1;
        }
    }
    assert!(blue.len() > 300, "the signature image is drawn ({} blue pixels)", blue.len());
    assert!(red.len() > 300, "the seal is drawn ({} red pixels)", red.len());
    // the seal lies over the left third of the signature: it starts left of the signature and
    // ends a little way into it
    let span = |xs: &[u32]| (*xs.iter().min().unwrap(), *xs.iter().max().unwrap());
    let ((blue_left, blue_right), (red_left, red_right)) = (span(&blue), span(&red));
    let third = blue_left + (blue_right - blue_left) / 3;
    assert!(
        red_left < blue_left && red_right > blue_left && red_right <= third + 5,
        "seal {red_left}..{red_right}, signature {blue_left}..{blue_right}"
    );
    assert!(dark > 300, "the text is drawn ({dark} dark pixels)");
    assert_eq!(outside, 0, "nothing is drawn outside the widget below the title");
}

#[test]
fn a_pkcs12_key_signs_like_a_pem_one() {
    let env = env();
    let p12 = env.path("official1.p12");
    run(
        "openssl",
        &[
            "pkcs12",
            "-export",
            "-inkey",
            &env.pki("official1.key"),
            "-in",
            &env.pki("official1.pem"),
            "-certfile",
            &env.pki("root.pem"),
            "-passout",
            "pass:mật khẩu",
            "-out",
            p12.to_str().unwrap(),
        ],
    );
    let input = env.path("p12-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let output = env.path("p12-out.pdf");
    let sign = |password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["sign", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--key", p12.to_str().unwrap()])
            .env("SOHOA_KEY_PASSWORD", password)
            .output()
            .unwrap()
    };
    let wrong = sign("wrong");
    assert_eq!(wrong.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&wrong.stderr).contains("mật khẩu"));
    assert!(sign("mật khẩu").status.success());
    let (code, report) = env.verify(&output);
    assert_eq!(code, 0, "{report}");
    assert!(report["signatures"][0]["chain"].as_array().unwrap().len() == 2, "the chain came from the PKCS#12 file");
    assert!(env.pdfsig(&output).contains("Certificate is Trusted."));
}
