//! The incremental-update attack corpus: one file per class of later change, each built by
//! hand on top of a file `sohoa sign` produced, judged by `sohoa verify` and by pyHanko.
//! The two verdicts must agree (both valid or both not), and sohoa must name the change.
//! The classes, what each does and the verdicts are listed in docs/attacks.md.

use super::{env, problem_codes, sample_pdf, Env};
use std::path::PathBuf;

/// An incremental update written by hand: objects, free entries and cross-reference entries
/// that point wherever the attack wants them to.
pub struct Append {
    base: Vec<u8>,
    objects: Vec<(u32, Vec<u8>)>,
    free: Vec<(u32, u16)>,
    misplaced: Vec<(u32, u64)>,
    root: Option<u32>,
}

/// What an attack needs to know of the signed file it starts from.
pub struct Base {
    pub bytes: Vec<u8>,
    pub root: u32,
    pub size: u32,
    pub page: u32,
    pub content: u32,
    pub font: u32,
    /// The catalog's dictionary body, without the closing `>>`.
    pub catalog_open: String,
    /// The page's dictionary body, without the closing `>>`.
    pub page_open: String,
}

impl Base {
    pub fn of(bytes: Vec<u8>) -> Base {
        let doc = lopdf::Document::load_mem(&bytes).unwrap();
        let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap().0;
        let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32;
        let page = *doc.get_pages().get(&1).unwrap();
        let content = doc.get_page_contents(page)[0].0;
        let font = find_font(&doc, page);
        let open = |id: u32| {
            let mut body = Vec::new();
            lopdf::Writer::write_object(&mut body, doc.get_object((id, 0)).unwrap()).unwrap();
            let text = String::from_utf8_lossy(&body).into_owned();
            text.trim_end().strip_suffix(">>").unwrap().to_string()
        };
        Base { root, size, page: page.0, content, font, catalog_open: open(root), page_open: open(page.0), bytes }
    }
}

fn find_font(doc: &lopdf::Document, page: lopdf::ObjectId) -> u32 {
    let page = doc.get_dictionary(page).unwrap();
    let resources = page.get(b"Resources").unwrap().as_dict().unwrap();
    let fonts = resources.get(b"Font").unwrap().as_dict().unwrap();
    fonts.iter().next().unwrap().1.as_reference().unwrap().0
}

impl Append {
    pub fn to(base: &[u8]) -> Append {
        Append { base: base.to_vec(), objects: Vec::new(), free: Vec::new(), misplaced: Vec::new(), root: None }
    }

    pub fn object(mut self, id: u32, body: impl Into<Vec<u8>>) -> Append {
        self.objects.push((id, body.into()));
        self
    }

    pub fn free(mut self, id: u32, next_generation: u16) -> Append {
        self.free.push((id, next_generation));
        self
    }

    /// A cross-reference entry for `id` that points at `offset`.
    pub fn point(mut self, id: u32, offset: u64) -> Append {
        self.misplaced.push((id, offset));
        self
    }

    pub fn root(mut self, id: u32) -> Append {
        self.root = Some(id);
        self
    }

    pub fn write(self) -> Vec<u8> {
        self.write_trailer("")
    }

    /// [`Append::write`] with `/Info` naming object `info`.
    pub fn write_with_info(self, info: u32) -> Vec<u8> {
        self.write_trailer(&format!(" /Info {info} 0 R"))
    }

    fn write_trailer(self, extra: &str) -> Vec<u8> {
        let doc = lopdf::Document::load_mem(&self.base).unwrap();
        let prev = doc.xref_start;
        let old_root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap().0;
        let size = doc.trailer.get(b"Size").unwrap().as_i64().unwrap() as u32;
        let mut out = self.base;
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        let mut entries: Vec<(u32, String)> = Vec::new();
        for (id, body) in &self.objects {
            let generation = self.free.iter().find(|(f, _)| f == id).map_or(0, |(_, g)| *g);
            entries.push((*id, format!("{:010} {generation:05} n\r\n", out.len())));
            out.extend_from_slice(format!("{id} {generation} obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        for (id, next) in &self.free {
            if !self.objects.iter().any(|(o, _)| o == id) {
                entries.push((*id, format!("0000000000 {next:05} f\r\n")));
            }
        }
        for (id, offset) in &self.misplaced {
            entries.push((*id, format!("{offset:010} 00000 n\r\n")));
        }
        entries.sort();
        let max = entries.iter().map(|(id, _)| *id + 1).max().unwrap_or(0).max(size);
        let xref_at = out.len();
        out.extend_from_slice(b"xref\n");
        for (id, line) in &entries {
            out.extend_from_slice(format!("{id} 1\n{line}").as_bytes());
        }
        let root = self.root.unwrap_or(old_root);
        out.extend_from_slice(
            format!("trailer\n<< /Size {max} /Root {root} 0 R{extra} /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
        );
        out
    }
}

/// A stream object body.
fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(b"\nendstream");
    body
}

/// The sample signed by sohoa with `who` and the extra `sohoa sign` arguments.
fn signed(env: &Env, name: &str, who: &str, extra: &[&str]) -> Base {
    let input = env.path(&format!("attack-{name}-in.pdf"));
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let out = env.path(&format!("attack-{name}-signed.pdf"));
    env.sign(&input, &out, who, extra);
    Base::of(std::fs::read(&out).unwrap())
}

/// One attack: its name, the file, and the change code sohoa must report (none when the
/// change is allowed).
struct Case {
    name: &'static str,
    pdf: Vec<u8>,
    code: Option<&'static str>,
    /// Why pyHanko's verdict differs from sohoa's, when it does.
    pyhanko_differs: Option<&'static str>,
}

/// pyHanko's verdict: whether every signature validates with no illegal modification.
fn pyhanko_valid(env: &Env, path: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(env.pyhanko_bin())
        .args(["sign", "validate", "--no-revocation-check", "--trust-replace", "--trust", &env.pki("root.pem")])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = text.lines().chain(err.lines().filter(|l| l.starts_with("Error"))).collect::<Vec<_>>().join(" | ");
    (out.status.success(), summary)
}

fn cases(env: &Env) -> Vec<Case> {
    let b = signed(env, "approval", "seal", &[]);
    let n = b.size;
    let mut cases = Vec::new();
    let text = b"BT /F1 20 Tf 72 760 Td (QUYET DINH So 999/QD-UBND) Tj ET";

    cases.push(Case {
        name: "page content replaced in place",
        pdf: Append::to(&b.bytes).object(b.content, stream("", text)).write(),
        code: Some("content_changed"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "whole document substituted under new numbers",
        pdf: substituted(&b, format!("<< /Type /Catalog /Pages {} 0 R >>", n + 1), text),
        code: Some("signature_removed"),
        pyhanko_differs: Some(
            "pyHanko looks for signatures in the newest revision only: the new catalog has no form, it finds none and exits 0",
        ),
    });
    cases.push(Case {
        name: "whole document substituted, signed form kept",
        pdf: substituted(
            &b,
            format!("{} >>", b.catalog_open.replace(&format!("/Pages {} 0 R", pages_of(&b)), &format!("/Pages {} 0 R", n + 1))),
            text,
        ),
        code: Some("content_changed"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "new catalog that adds /OpenAction JavaScript",
        pdf: Append::to(&b.bytes)
            .object(n, format!("{} /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>", b.catalog_open))
            .root(n)
            .write(),
        code: Some("action_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "faithful copy of the catalog under a new number",
        pdf: Append::to(&b.bytes).object(n, format!("{} >>", b.catalog_open)).root(n).write(),
        code: None,
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "/OpenAction added to the signed catalog",
        pdf: Append::to(&b.bytes)
            .object(b.root, format!("{} /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>", b.catalog_open))
            .write(),
        code: Some("action_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "page content freed",
        pdf: Append::to(&b.bytes).free(b.content, 1).write(),
        code: Some("object_freed"),
        pyhanko_differs: None,
    });
    let font_at = offset_of(&b.bytes, b.font);
    cases.push(Case {
        name: "page content entry points at another object",
        pdf: Append::to(&b.bytes).point(b.content, font_at).write(),
        code: Some("object_unreadable"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "document JavaScript added to /Names",
        pdf: Append::to(&b.bytes)
            .object(b.root, format!("{} /Names << /JavaScript {} 0 R >> >>", b.catalog_open, n))
            .object(n, format!("<< /Names [(a) {} 0 R] >>", n + 1))
            .object(n + 1, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>")
            .write(),
        code: Some("javascript_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "embedded file added",
        pdf: Append::to(&b.bytes)
            .object(b.root, format!("{} /Names << /EmbeddedFiles {} 0 R >> >>", b.catalog_open, n))
            .object(n, format!("<< /Names [(x.exe) << /Type /Filespec /F (x.exe) /EF << /F {} 0 R >> >>] >>", n + 1))
            .object(n + 1, stream("/Type /EmbeddedFile", b"MZ"))
            .write(),
        code: Some("embedded_file_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "free-text annotation added",
        pdf: Append::to(&b.bytes)
            .object(b.page, format!("{} /Annots [{} 0 R {} 0 R] >>", strip_annots(&b.page_open), widget_of(&b), n))
            .object(n, "<< /Type /Annot /Subtype /FreeText /Rect [72 600 400 640] /Contents (Da thu hoi) /DA (/Helv 20 Tf 1 0 0 rg) >>")
            .write(),
        code: Some("annotation_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "page added",
        pdf: {
            let pages = pages_of(&b);
            Append::to(&b.bytes)
                .object(pages, format!("<< /Type /Pages /Kids [{} 0 R {} 0 R] /Count 2 >>", b.page, n))
                .object(n, format!("<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>", n + 1))
                .object(n + 1, stream("", text))
                .write()
        },
        code: Some("object_changed"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "text form field added",
        pdf: Append::to(&b.bytes)
            .object(b.page, format!("{} /Annots [{} 0 R {} 0 R] >>", strip_annots(&b.page_open), widget_of(&b), n))
            .object(n, format!("<< /Type /Annot /Subtype /Widget /FT /Tx /T (extra) /V (999) /Rect [72 600 300 620] /P {} 0 R >>", b.page))
            .object(b.root, format!("{} >>", replace_fields(&b, &format!("{} 0 R {n} 0 R", widget_of(&b)))))
            .write(),
        code: Some("field_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "later signature whose /Contents is not hex",
        pdf: broken_signature(
            &b,
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 10 20 30] /Contents <ZZ> >>",
        ),
        code: Some("signature_unreadable"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "later signature whose dictionary does not parse",
        pdf: broken_signature(&b, "<< /Type /Sig /Filter /Adobe.PPKLite /ByteRange [0 10 20 30] /Contents <00> /M (D:2026"),
        code: Some("signature_unreadable"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "page tree made a cycle",
        pdf: {
            let pages = pages_of(&b);
            Append::to(&b.bytes).object(pages, format!("<< /Type /Pages /Kids [{} 0 R {pages} 0 R] /Count 2 >>", b.page)).write()
        },
        code: Some("object_changed"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "annotation nested a thousand arrays deep",
        pdf: Append::to(&b.bytes)
            .object(b.page, format!("{} /Annots [{} 0 R {n} 0 R] >>", strip_annots(&b.page_open), widget_of(&b)))
            .object(n, format!("<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] /X {}{} >>", "[".repeat(1000), "]".repeat(1000)))
            .write(),
        code: Some("object_unreadable"),
        pyhanko_differs: None,
    });
    // A signed visible field: its appearance stream replaced by a blank box.
    let v = signed(env, "visible", "official1", &["--visible", "1,330,60,230,70"]);
    let ap = appearance_of(&v);
    cases.push(Case {
        name: "signature appearance replaced",
        pdf: Append::to(&v.bytes)
            .object(ap, stream("/Type /XObject /Subtype /Form /BBox [0 0 230 70]", b"0 0 1 rg 0 0 230 70 re f"))
            .write(),
        code: Some("content_changed"),
        pyhanko_differs: None,
    });
    cases.extend(certified_cases(env));
    cases
}

/// Certification signatures (DocMDP) made by `sohoa sign --certify`, then changed.
fn certified_cases(env: &Env) -> Vec<Case> {
    let mut cases = Vec::new();
    let p1 = signed(env, "certified-1", "seal", &["--certify", "1"]);
    let p1_signed = env.path("attack-certified-1-signed.pdf");
    let again = env.path("attack-certified-1-again.pdf");
    let refused = super::sohoa(&[
        "sign",
        p1_signed.to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--key",
        &env.pki("official1.key"),
        "--cert",
        &env.pki("official1.pem"),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("certification_forbids"), "sohoa sign must refuse a P=1 certified file: {stderr}");
    env.pyhanko_sign_forced(&p1_signed, &again, "official1", "Approval");
    cases.push(Case {
        name: "signed again after a P=1 certification",
        pdf: std::fs::read(&again).unwrap(),
        code: Some("signature_added"),
        pyhanko_differs: None,
    });
    cases.push(Case {
        name: "document information updated after P=1",
        pdf: Append::to(&p1.bytes).object(p1.size, "<< /Producer (x) >>").write_with_info(p1.size),
        code: None,
        pyhanko_differs: None,
    });

    let p2 = env.path("attack-certified-2-signed.pdf");
    let _ = signed(env, "certified-2", "seal", &["--certify", "2"]);
    let p2_signed = env.path("attack-certified-2-official.pdf");
    env.sign(&p2, &p2_signed, "official1", &[]);
    let p2_official = Base::of(std::fs::read(&p2_signed).unwrap());
    cases.push(Case {
        name: "invisible signature after a P=2 certification",
        pdf: p2_official.bytes.clone(),
        code: None,
        pyhanko_differs: None,
    });
    let n = p2_official.size;
    let widgets = annots_of(&p2_official);
    cases.push(Case {
        name: "annotation added after a P=2 certification",
        pdf: Append::to(&p2_official.bytes)
            .object(p2_official.page, format!("{} /Annots [{widgets} {n} 0 R] >>", strip_annots(&p2_official.page_open)))
            .object(n, "<< /Type /Annot /Subtype /Text /Rect [72 600 90 620] /Contents (x) >>")
            .write(),
        code: Some("annotation_added"),
        pyhanko_differs: None,
    });
    cases
}

fn annots_of(b: &Base) -> String {
    let doc = lopdf::Document::load_mem(&b.bytes).unwrap();
    let page = doc.get_dictionary((b.page, 0)).unwrap();
    page.get(b"Annots")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| format!("{} 0 R", a.as_reference().unwrap().0))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A new document under new numbers: `catalog` (whose `/Pages` names the next number), a
/// page tree and one page showing `text`; the trailer's `/Root` points at it.
fn substituted(b: &Base, catalog: String, text: &[u8]) -> Vec<u8> {
    let n = b.size;
    let page = format!(
        "<< /Type /Page /Parent {} 0 R /MediaBox [0 0 595 842] /Contents {} 0 R /Resources << /Font << /F1 {} 0 R >> >> >>",
        n + 1,
        n + 3,
        b.font
    );
    Append::to(&b.bytes)
        .object(n, catalog)
        .object(n + 1, format!("<< /Type /Pages /Kids [{} 0 R] /Count 1 >>", n + 2))
        .object(n + 2, page)
        .object(n + 3, stream("", text))
        .root(n)
        .write()
}

/// Offset of `id 0 obj` in the file.
fn offset_of(pdf: &[u8], id: u32) -> u64 {
    let needle = format!("\n{id} 0 obj");
    pdf.windows(needle.len()).position(|w| w == needle.as_bytes()).unwrap() as u64 + 1
}

fn pages_of(b: &Base) -> u32 {
    let doc = lopdf::Document::load_mem(&b.bytes).unwrap();
    doc.catalog().unwrap().get(b"Pages").unwrap().as_reference().unwrap().0
}

/// The signature widget sohoa added to the page.
fn widget_of(b: &Base) -> u32 {
    let doc = lopdf::Document::load_mem(&b.bytes).unwrap();
    let page = doc.get_dictionary((b.page, 0)).unwrap();
    page.get(b"Annots").unwrap().as_array().unwrap()[0].as_reference().unwrap().0
}

fn appearance_of(b: &Base) -> u32 {
    let doc = lopdf::Document::load_mem(&b.bytes).unwrap();
    let widget = doc.get_dictionary((widget_of(b), 0)).unwrap();
    widget.get(b"AP").unwrap().as_dict().unwrap().get(b"N").unwrap().as_reference().unwrap().0
}

fn strip_annots(page_open: &str) -> String {
    match page_open.find("/Annots") {
        Some(at) => {
            let end = at + page_open[at..].find(']').unwrap() + 1;
            format!("{}{}", &page_open[..at], &page_open[end..])
        }
        None => page_open.to_string(),
    }
}

/// The catalog body with its direct form's `/Fields` replaced.
fn replace_fields(b: &Base, fields: &str) -> String {
    let at = b.catalog_open.find("/Fields").unwrap();
    let open = at + b.catalog_open[at..].find('[').unwrap();
    let close = open + b.catalog_open[open..].find(']').unwrap();
    format!("{}[{fields}]{}", &b.catalog_open[..open], &b.catalog_open[close + 1..])
}

/// A second signature field whose value is `value`, added to the page and the form.
fn broken_signature(b: &Base, value: &str) -> Vec<u8> {
    let n = b.size;
    Append::to(&b.bytes)
        .object(n, value.as_bytes().to_vec())
        .object(
            n + 1,
            format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Broken) /V {n} 0 R /Rect [0 0 0 0] /F 132 /P {} 0 R >>", b.page),
        )
        .object(b.page, format!("{} /Annots [{} 0 R {} 0 R] >>", strip_annots(&b.page_open), widget_of(b), n + 1))
        .object(b.root, format!("{} >>", replace_fields(b, &format!("{} 0 R {} 0 R", widget_of(b), n + 1))))
        .write()
}

#[test]
fn incremental_update_attacks_are_judged_as_pyhanko_judges_them() {
    let env = env();
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for case in cases(env) {
        let path: PathBuf = env.path(&format!("attack-{}.pdf", case.name.replace([' ', '/'], "-")));
        std::fs::write(&path, &case.pdf).unwrap();
        let (code, report) = env.verify(&path);
        let codes = change_codes(&report);
        let (py_valid, py) = pyhanko_valid(env, &path);
        let sohoa_valid = code == 0;
        table.push(format!("{:<52} sohoa {:<8} {:<40} pyHanko {}", case.name, verdict(sohoa_valid), codes.join(","), verdict(py_valid)));
        match case.pyhanko_differs {
            None if sohoa_valid != py_valid => {
                wrong.push(format!("{}: sohoa {} ({report}), pyHanko {py}", case.name, verdict(sohoa_valid)))
            }
            Some(why) if sohoa_valid == py_valid => wrong.push(format!("{}: pyHanko agrees now, no longer: {why}", case.name)),
            _ => {}
        }
        match case.code {
            Some(expected) if !codes.iter().any(|c| c == expected) && !problem_codes(&report).iter().any(|c| c == expected) => {
                wrong.push(format!("{}: expected {expected}, got {codes:?} / {:?}", case.name, problem_codes(&report)))
            }
            Some(_) if sohoa_valid => wrong.push(format!("{}: sohoa calls it valid", case.name)),
            None if !sohoa_valid => wrong.push(format!("{}: sohoa calls an allowed change invalid: {report}", case.name)),
            _ => {}
        }
    }
    println!("{}", table.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn verdict(valid: bool) -> &'static str {
    if valid {
        "valid"
    } else {
        "INVALID"
    }
}

/// Codes of the disallowed changes and signature problems sohoa reports.
fn change_codes(report: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = report["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["changes_after"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["allowed"] == false)
        .filter_map(|c| c["code"].as_str().map(str::to_string))
        .collect();
    out.extend(problem_codes(report).into_iter().filter(|c| c != "modified_after_signing"));
    out.sort();
    out.dedup();
    out
}
