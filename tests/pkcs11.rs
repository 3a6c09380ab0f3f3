//! The seal key in a hardware module: SoftHSM2 tokens in a temp dir hold the demo seal (RSA)
//! and an ECDSA P-256 key; `sohoa sign` and the service's seal signer sign through PKCS#11,
//! and `sohoa verify` (and pdfsig) check the result. Skipped when SoftHSM2 is not installed.

mod common;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use sohoa::config::{Config, KeySource};
use sohoa::sign::{KeyAlgorithm, Pkcs11Uri, SignOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "sohoa-test";
const PIN: &str = "1234";
const RSA_URI: &str = "pkcs11:token=sohoa-test;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so";
/// The EC key's certificate is on the token beside it: no `--cert`.
const EC_URI: &str = "pkcs11:token=sohoa-test;object=ec-seal;id=%02?module-path=/usr/lib/softhsm/libsofthsm2.so";

struct Hsm {
    dir: PathBuf,
    pki: PathBuf,
    pin_file: PathBuf,
}

/// The token, made once per test binary, and the right to use it; None (with a message)
/// without SoftHSM2. SoftHSM2 rewrites its token file on a failed login, and another process
/// reading it then finds no token: the tests take turns.
fn hsm() -> Option<(&'static Hsm, MutexGuard<'static, ()>)> {
    static HSM: OnceLock<Option<Hsm>> = OnceLock::new();
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let hsm = HSM.get_or_init(|| {
        if !Path::new(MODULE).exists() {
            eprintln!("skipped: {MODULE} is absent (install softhsm2: scripts/install-deps.sh)");
            return None;
        }
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pkcs11-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tokens")).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", dir.join("tokens").display()),
        )
        .unwrap();
        // Read by SoftHSM2 at C_Initialize, in this process and in every `sohoa` it runs.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        let pki = dir.join("pki");
        let out = sohoa(&["pki", "demo", pki.to_str().unwrap()], &[]);
        assert!(out.status.success(), "pki demo: {}", stderr(&out));
        run("softhsm2-util", &["--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", "5678"]);
        let import = |key: &str, label: &str, id: &str| {
            let key = pki.join(key);
            run("softhsm2-util", &["--import", key.to_str().unwrap(), "--token", TOKEN, "--label", label, "--id", id, "--pin", PIN]);
        };
        import("seal.key", "seal", "01");
        import("official2.key", "ec-seal", "02");
        store_certificate(&std::fs::read_to_string(pki.join("official2.pem")).unwrap(), "ec-seal", &[2]);
        // Tokens need not keep the public key: then a test signature proves the match.
        import("official2.key", "ec-bare", "03");
        let session = session();
        for public in session.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::Id(vec![3])]).unwrap() {
            session.destroy_object(public).unwrap();
        }
        let pin_file = dir.join("pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        Some(Hsm { dir, pki, pin_file })
    });
    hsm.as_ref().map(|hsm| (hsm, turn))
}

/// A logged-in read-write session on the test token, through cryptoki directly.
fn session() -> cryptoki::session::Session {
    let module = Pkcs11::new(MODULE).unwrap();
    // The signer under test may have initialized the module in this process already.
    match module.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => panic!("C_Initialize: {e}"),
    }
    let slot = module
        .get_slots_with_initialized_token()
        .unwrap()
        .into_iter()
        .find(|s| module.get_token_info(*s).unwrap().label() == TOKEN)
        .unwrap();
    let session = module.open_rw_session(slot).unwrap();
    match session.login(UserType::User, Some(&AuthPin::from(PIN.to_owned()))) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("C_Login: {e}"),
    }
    session
}

/// softhsm2-util imports keys only; the certificate object is made with C_CreateObject.
fn store_certificate(pem: &str, label: &str, id: &[u8]) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
    let subject = pem.parse_x509().unwrap().subject().as_raw().to_vec();
    session()
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.to_vec()),
            Attribute::Subject(subject),
            Attribute::Value(pem.contents),
        ])
        .unwrap();
}

fn sohoa(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sohoa")).args(args).envs(env.iter().copied()).env("RUST_LOG", "warn").output().expect("run sohoa")
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

impl Hsm {
    fn pki(&self, name: &str) -> String {
        self.pki.join(name).display().to_string()
    }

    /// `sohoa sign` of a sample PDF with `key`; returns the output path and the process output.
    fn sign(&self, name: &str, key: &str, extra: &[&str], env: &[(&str, &str)]) -> (PathBuf, Output) {
        let input = self.dir.join(format!("{name}-in.pdf"));
        std::fs::write(&input, common::sample_pdf(false)).unwrap();
        let output = self.dir.join(format!("{name}.pdf"));
        let mut args = vec!["sign", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--key", key];
        args.extend_from_slice(extra);
        (output.clone(), sohoa(&args, env))
    }

    /// `sohoa verify --json` against the demo root: exit code and the first signature's report.
    fn verify(&self, pdf: &Path) -> (i32, serde_json::Value) {
        let out = sohoa(&["verify", pdf.to_str().unwrap(), "--trust", &self.pki("root.pem"), "--json"], &[]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        (out.status.code().unwrap_or(-1), report["signatures"][0].clone())
    }
}

/// pdfsig's verdict on the signature's integrity, when poppler-utils is installed.
fn pdfsig_says_valid(pdf: &Path) -> Option<bool> {
    let out = Command::new("pdfsig").arg(pdf).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).contains("Signature is Valid."))
}

#[test]
fn rsa_seal_in_the_token_signs_a_pdf_that_verifies() {
    let Some((hsm, _turn)) = hsm() else { return };
    let pin_file = hsm.pin_file.display().to_string();
    let (pdf, out) =
        hsm.sign("rsa", RSA_URI, &["--cert", &hsm.pki("seal.pem"), "--chain", &hsm.pki("root.pem")], &[("SOHOA_KEY_PIN_FILE", &pin_file)]);
    assert!(out.status.success(), "sohoa sign: {}", stderr(&out));
    let (code, signature) = hsm.verify(&pdf);
    assert_eq!(code, 0, "{signature}");
    assert_eq!(signature["level"], "B-B");
    assert_ne!(pdfsig_says_valid(&pdf), Some(false), "pdfsig rejects {}", pdf.display());
}

#[test]
fn ecdsa_p256_key_signs_with_the_certificate_stored_on_the_token() {
    let Some((hsm, _turn)) = hsm() else { return };
    let (pdf, out) = hsm.sign("ec", EC_URI, &["--chain", &hsm.pki("root.pem")], &[("SOHOA_KEY_PIN", PIN)]);
    assert!(out.status.success(), "sohoa sign: {}", stderr(&out));
    let (code, signature) = hsm.verify(&pdf);
    assert_eq!(code, 0, "{signature}");
    assert!(signature.to_string().contains("Trần Thị Bình"), "signed by the token's certificate: {signature}");
    assert_ne!(pdfsig_says_valid(&pdf), Some(false), "pdfsig rejects {}", pdf.display());

    let bare = "pkcs11:token=sohoa-test;object=ec-bare";
    let (pdf, out) = hsm.sign("ec-bare", bare, &["--cert", &hsm.pki("official2.pem")], &[("SOHOA_KEY_PIN", PIN)]);
    assert!(out.status.success(), "sohoa sign: {}", stderr(&out));
    assert_eq!(hsm.verify(&pdf).0, 0);
    let (_, out) = hsm.sign("ec-bare-wrong", bare, &["--cert", &hsm.pki("tsa.pem")], &[("SOHOA_KEY_PIN", PIN)]);
    assert!(stderr(&out).contains("(key_certificate_mismatch)"), "another P-256 certificate: {}", stderr(&out));
}

#[test]
fn wrong_pin_wrong_certificate_and_bad_uris_are_refused_with_codes() {
    let Some((hsm, _turn)) = hsm() else { return };
    let (seal, official1) = (hsm.pki("seal.pem"), hsm.pki("official1.pem"));
    let cases: [(&str, &str, Vec<&str>, &str); 6] = [
        ("wrong-pin", RSA_URI, vec!["--cert", &seal], "(pkcs11_pin_incorrect)"),
        ("wrong-cert", RSA_URI, vec!["--cert", &official1], "(key_certificate_mismatch)"),
        ("no-key", "pkcs11:token=sohoa-test;object=absent", vec!["--cert", &seal], "(pkcs11_key_not_found)"),
        ("no-token", "pkcs11:token=absent;object=seal", vec!["--cert", &seal], "(pkcs11_token_not_found)"),
        ("no-cert", RSA_URI, vec![], "(pkcs11_certificate_not_found)"),
        ("pin-value", "pkcs11:token=sohoa-test;object=seal?pin-value=1234", vec!["--cert", &seal], "pin-value would put the PIN"),
    ];
    for (name, key, extra, expected) in cases {
        let pin = if name == "wrong-pin" { "9999" } else { PIN };
        let (pdf, out) = hsm.sign(name, key, &extra, &[("SOHOA_KEY_PIN", pin)]);
        let err = stderr(&out);
        assert!(!out.status.success() && err.contains(expected), "{name}: {err}");
        assert!(!err.contains("panicked") && !pdf.exists(), "{name}: {err}");
    }
}

#[test]
fn private_keys_stay_in_the_token() {
    let Some((_, _turn)) = hsm() else { return };
    let session = session();
    for label in ["seal", "ec-seal"] {
        let template = [Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Label(label.as_bytes().to_vec())];
        let [key] = session.find_objects(&template).unwrap()[..] else { panic!("one {label} key") };
        let attributes =
            session.get_attributes(key, &[AttributeType::Sensitive, AttributeType::Extractable, AttributeType::Value]).unwrap();
        assert!(attributes.contains(&Attribute::Sensitive(true)), "{label}: {attributes:?}");
        assert!(attributes.contains(&Attribute::Extractable(false)), "{label}: {attributes:?}");
        // C_GetAttributeValue answers CKR_ATTRIBUTE_SENSITIVE for the value; cryptoki leaves it out.
        assert!(!attributes.iter().any(|a| matches!(a, Attribute::Value(_))), "{label}: the key's value was readable");
    }
}

#[test]
fn the_service_seal_signer_opens_the_token_from_settings_and_signs_from_several_threads() {
    let Some((hsm, _turn)) = hsm() else { return };
    let mut config = Config { seal_cert: hsm.pki.join("seal.pem"), seal_chain: Some(hsm.pki.join("root.pem")), ..Config::default() };
    let pin_file = hsm.pin_file.display().to_string();
    config
        .apply_env(|k| match k {
            "SOHOA_SEAL_KEY" => Some(RSA_URI.to_owned()),
            "SOHOA_SEAL_PIN_FILE" => Some(pin_file.clone()),
            _ => None,
        })
        .unwrap();
    assert!(matches!(config.seal_key, KeySource::Pkcs11(_)));
    let signer = sohoa::startup::seal_signer(&config).unwrap().expect("a seal signer");
    let pdf = common::sample_pdf(true);
    let signed: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let options = SignOptions {
                        page: 1,
                        appearance: None,
                        reason: Some("Bản sao điện tử".into()),
                        location: None,
                        signing_time: chrono::Utc::now().fixed_offset(),
                        timestamp: false,
                        certify: None,
                    };
                    sohoa::sign::sign_pdf(&pdf, signer.as_ref(), options).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, bytes) in signed.iter().enumerate() {
        let path = hsm.dir.join(format!("threads-{i}.pdf"));
        std::fs::write(&path, bytes).unwrap();
        let (code, signature) = hsm.verify(&path);
        assert_eq!(code, 0, "{signature}");
    }

    // An empty seal_cert takes the token's certificate.
    config.seal_key = KeySource::Pkcs11(Box::new(Pkcs11Uri::parse(EC_URI).unwrap()));
    config.seal_cert = PathBuf::new();
    let signer = sohoa::startup::seal_signer(&config).unwrap().expect("a seal signer");
    assert_eq!(signer.algorithm(), KeyAlgorithm::EcdsaP256Sha256);
    assert!(x509_parser::parse_x509_certificate(signer.certificate()).unwrap().1.subject().to_string().contains("Trần Thị Bình"));
}
