//! `sohoa-worker ocr` on PDFs shaped as document scanners and archive software write them
//! (tests/vectors/scanned/, written by scripts/gen-scanned-pdfs.py): every output page keeps
//! its input page's MediaBox, CropBox, /Rotate and UserUnit, the output passes `qpdf
//! --check`, its text holds the Vietnamese printed on the page, and a page that already had
//! a text layer keeps that text and gains no other.

mod pdfs;

use pdfs::Geometry;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Share of a page's printed words its output text must hold (a few misread words pass).
const MIN_RECALL: f64 = 0.8;

#[derive(Deserialize)]
struct Manifest {
    files: Vec<FileCase>,
}

#[derive(Deserialize)]
struct FileCase {
    file: String,
    pages: Vec<PageCase>,
    /// 1-based numbers of the pages that carry a text layer in the input
    #[serde(default)]
    text_layer: Vec<usize>,
}

#[derive(Deserialize)]
struct PageCase {
    media_box: [f64; 4],
    crop_box: [f64; 4],
    rotate: i64,
    user_unit: f64,
    words: String,
}

impl PageCase {
    fn geometry(&self) -> Geometry {
        Geometry { media_box: self.media_box, crop_box: self.crop_box, rotate: self.rotate, user_unit: self.user_unit }
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/scanned")
}

fn case(file: &str) -> FileCase {
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(corpus().join("manifest.json")).unwrap()).unwrap();
    manifest.files.into_iter().find(|f| f.file == file).unwrap_or_else(|| panic!("{file} is in the manifest"))
}

/// Runs the worker on one corpus file and checks everything the file's manifest entry says.
fn check(file: &str) {
    let case = case(file);
    let input = corpus().join(file);
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.pdf");

    // the corpus itself is what the manifest says, so a failure below is the worker's
    let wanted: Vec<Geometry> = case.pages.iter().map(PageCase::geometry).collect();
    let given = pdfs::geometry(&input).unwrap();
    assert_eq!(given.len(), wanted.len(), "{file}: pages in the file against the manifest");
    for (n, (g, w)) in given.iter().zip(&wanted).enumerate() {
        assert!(g.close_to(w), "{file} page {}: the file has {g:?}, the manifest {w:?}", n + 1);
    }

    let run = Command::new(pdfs::worker()).arg("ocr").arg(&input).arg("-o").arg(&output).args(["--lang", "vie"]).output().unwrap();
    assert!(run.status.success(), "{file}: sohoa-worker ocr exit {:?}: {}", run.status.code(), String::from_utf8_lossy(&run.stderr).trim());
    pdfs::qpdf_check(&output).unwrap_or_else(|e| panic!("{file}: qpdf --check: {e}"));

    let produced = pdfs::geometry(&output).unwrap();
    assert_eq!(produced.len(), given.len(), "{file}: pages out against pages in");
    let mut problems = Vec::new();
    for (n, (p, g)) in produced.iter().zip(&given).enumerate() {
        if !p.close_to(g) {
            problems.push(format!("page {}: geometry {p:?}, the input's {g:?}", n + 1));
        }
    }
    for (n, page) in case.pages.iter().enumerate() {
        let number = n + 1;
        let text = pdfs::pdftotext(&output, Some(number));
        let found = pdfs::words(&text);
        if case.text_layer.contains(&number) {
            // kept as it was: the input's words, no second copy recognised over them
            let mut before = pdfs::words(&pdfs::pdftotext(&input, Some(number)));
            let mut after = found.clone();
            before.sort();
            after.sort();
            if before != after {
                problems.push(format!("page {number}: the text layer {before:?} became {after:?}"));
            }
            continue;
        }
        let expected = pdfs::words(&page.words);
        let recall = pdfs::recall(&expected, &found);
        if recall < MIN_RECALL {
            problems.push(format!("page {number}: {:.0} % of the printed words in the text: {}", recall * 100.0, text.trim()));
        }
    }
    assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
}

macro_rules! cases {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $name() { check($file) })*

        #[test]
        fn every_file_of_the_manifest_has_a_case() {
            let manifest: Manifest = serde_json::from_slice(&std::fs::read(corpus().join("manifest.json")).unwrap()).unwrap();
            let mut listed: Vec<String> = manifest.files.into_iter().map(|f| f.file).collect();
            let mut covered: Vec<String> = vec![$($file.to_string()),*];
            listed.sort();
            covered.sort();
            assert_eq!(listed, covered);
        }
    };
}

cases! {
    ccitt_group4_bilevel => "ccitt-g4.pdf",
    ccitt_group3_one_dimensional => "ccitt-g3.pdf",
    jbig2_with_globals => "jbig2-globals.pdf",
    jpeg2000 => "jpx.pdf",
    indexed_palette => "indexed.pdf",
    soft_mask => "smask.pdf",
    anisotropic_200_by_100_dpi => "anisotropic.pdf",
    rotate_90 => "rotate90.pdf",
    crop_box_inside_an_offset_media_box => "cropbox.pdf",
    two_images_on_one_page => "two-images.pdf",
    vector_frame_over_an_image => "vector.pdf",
    grey_16_bit => "gray16.pdf",
    cmyk_jpeg_with_decode => "cmyk-jpeg.pdf",
    flate_then_dct => "flate-dct.pdf",
    user_unit_2 => "userunit.pdf",
    page_with_a_text_layer => "text-layer.pdf",
    several_kinds_in_one_file => "multipage.pdf",
}
