//! What the scanned-PDF tests read back from a PDF with outside tools and lopdf: a page's
//! text (pdftotext), its words as a reader compares them, its geometry, `qpdf --check`.

#![allow(dead_code)] // each test binary uses its own part

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use unicode_normalization::UnicodeNormalization;

pub fn worker() -> PathBuf {
    // cargo builds the package's binary for its integration tests
    PathBuf::from(env!("CARGO_BIN_EXE_sohoa-worker"))
}

pub fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| panic!("{name} runs (installed by scripts/install-deps.sh): {e}"))
}

/// The text of one page (1-based), or of the whole file with `None`.
pub fn pdftotext(pdf: &Path, page: Option<usize>) -> String {
    let mut args = vec!["-enc".to_string(), "UTF-8".into()];
    if let Some(n) = page {
        args.extend(["-f".into(), n.to_string(), "-l".into(), n.to_string()]);
    }
    args.extend([pdf.to_str().unwrap().to_string(), "-".into()]);
    let out = Command::new("pdftotext").args(&args).output().expect("pdftotext runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Words as a reader compares them: NFC, lower case, without the punctuation around them.
pub fn words(text: &str) -> Vec<String> {
    let text: String = text.nfc().collect::<String>().to_lowercase();
    text.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string()).filter(|w| !w.is_empty()).collect()
}

/// Share of `expected` words found among `found` (each found word counted once).
pub fn recall(expected: &[String], found: &[String]) -> f64 {
    if expected.is_empty() {
        return 1.0;
    }
    let mut bag = bag(found);
    let hits = expected
        .iter()
        .filter(|w| match bag.get_mut(w.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    hits as f64 / expected.len() as f64
}

/// Bag-of-words F1 of `candidate` against `reference`; 1 when both are empty.
pub fn f1(reference: &[String], candidate: &[String]) -> f64 {
    if reference.is_empty() && candidate.is_empty() {
        return 1.0;
    }
    let mut reference_bag = bag(reference);
    let mut common = 0usize;
    for w in candidate {
        if let Some(n) = reference_bag.get_mut(w.as_str()) {
            if *n > 0 {
                *n -= 1;
                common += 1;
            }
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / candidate.len() as f64;
    let recall = common as f64 / reference.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

fn bag(words: &[String]) -> HashMap<&str, usize> {
    let mut bag = HashMap::new();
    for w in words {
        *bag.entry(w.as_str()).or_insert(0) += 1;
    }
    bag
}

/// `qpdf --check` passes with no warning; the complaint otherwise.
pub fn qpdf_check(pdf: &Path) -> Result<(), String> {
    let out = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() && !text.contains("WARNING") {
        Ok(())
    } else {
        Err(text)
    }
}

/// A page's geometry as a viewer applies it, inherited attributes resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    pub media_box: [f64; 4],
    pub crop_box: [f64; 4],
    pub rotate: i64,
    pub user_unit: f64,
}

impl Geometry {
    pub fn close_to(&self, other: &Geometry) -> bool {
        let near = |a: &[f64; 4], b: &[f64; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 0.01);
        near(&self.media_box, &other.media_box)
            && near(&self.crop_box, &other.crop_box)
            && self.rotate == other.rotate
            && (self.user_unit - other.user_unit).abs() < 1e-6
    }
}

/// Every page's geometry, in page order.
pub fn geometry(pdf: &Path) -> Result<Vec<Geometry>, String> {
    let doc = lopdf::Document::load(pdf).map_err(|e| format!("lopdf cannot read {}: {e}", pdf.display()))?;
    doc.get_pages().values().map(|&id| page_geometry(&doc, id)).collect()
}

fn page_geometry(doc: &lopdf::Document, id: lopdf::ObjectId) -> Result<Geometry, String> {
    let media_box = boxed(doc, inherited(doc, id, b"MediaBox").ok_or("a page without a MediaBox")?)?;
    let crop_box = match inherited(doc, id, b"CropBox") {
        Some(o) => boxed(doc, o)?,
        None => media_box,
    };
    let rotate = inherited(doc, id, b"Rotate").map(|o| number(doc, o)).transpose()?.unwrap_or(0.0) as i64;
    let user_unit = inherited(doc, id, b"UserUnit").map(|o| number(doc, o)).transpose()?.unwrap_or(1.0);
    Ok(Geometry { media_box, crop_box, rotate: rotate.rem_euclid(360), user_unit })
}

/// A page attribute from the page or the nearest ancestor in the page tree that has it.
fn inherited<'a>(doc: &'a lopdf::Document, mut id: lopdf::ObjectId, key: &[u8]) -> Option<&'a lopdf::Object> {
    for _ in 0..64 {
        let dict = doc.get_dictionary(id).ok()?;
        if let Ok(value) = dict.get(key) {
            return Some(value);
        }
        id = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

fn number(doc: &lopdf::Document, o: &lopdf::Object) -> Result<f64, String> {
    let o = doc.dereference(o).map_err(|e| e.to_string())?.1;
    match o {
        lopdf::Object::Integer(i) => Ok(*i as f64),
        lopdf::Object::Real(r) => Ok(*r as f64),
        other => Err(format!("not a number: {other:?}")),
    }
}

fn boxed(doc: &lopdf::Document, o: &lopdf::Object) -> Result<[f64; 4], String> {
    let array = doc.dereference(o).map_err(|e| e.to_string())?.1.as_array().map_err(|e| e.to_string())?;
    let v: Vec<f64> = array.iter().map(|o| number(doc, o)).collect::<Result<_, _>>()?;
    let [a, b, c, d] = v[..] else { return Err(format!("a box of {} numbers", v.len())) };
    // a box is a rectangle whatever corner order it is written in
    Ok([a.min(c), b.min(d), a.max(c), b.max(d)])
}
