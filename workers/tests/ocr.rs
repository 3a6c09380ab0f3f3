//! OCR on generated pages with ground truth: error-rate bounds per scan quality, the PDF's
//! text layer against the recognised text (pdftotext), `qpdf --check`, and bad inputs
//! through the command line.

use sohoa_protocol::intake::MediaLimits;
use sohoa_worker::ocr::{self, Engine};
use sohoa_worker::samples::{self, Quality};
use std::path::{Path, PathBuf};
use std::process::Command;

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 200, max_scan_pixels: u64::MAX };
const TYPES: [&str; 4] = ["birth_certificate", "identity_card", "marriage_certificate", "criminal_record_certificate"];

fn catalog() -> sohoa_protocol::policy::Catalog {
    sohoa_protocol::policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap()
}

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| panic!("{name} runs (installed by scripts/install-deps.sh): {e}"))
}

/// Text in content-stream order (`-raw`), which is the order the words were written in.
fn pdftotext(pdf: &Path) -> String {
    let out = tool("pdftotext", &["-raw", "-enc", "UTF-8", pdf.to_str().unwrap(), "-"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn error_rates_stay_within_bounds_and_the_pdf_gives_the_text_back() {
    // libgomp reads the limit when it loads, before any test code: .cargo/config.toml sets it
    assert_eq!(std::env::var("OMP_THREAD_LIMIT").as_deref(), Ok("1"), "run through cargo, which sets OMP_THREAD_LIMIT");
    let catalog = catalog();
    let mut engine = Engine::new("vie").unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!("{:<10} {:<30} {:>6} {:>8}", "quality", "type", "dpi", "CER");
    for (quality, bound) in [(Quality::Clean, 0.01), (Quality::Ordinary, 0.02), (Quality::Poor, 0.06)] {
        let mut total = 0.0;
        for (i, doc_type) in TYPES.iter().enumerate() {
            let sample = samples::generate(&catalog, doc_type, quality, 100 + i as u64).unwrap();
            let pages = ocr::recognise(&mut engine, &[&sample.bytes], LIMITS, ocr::SERVICE_POLICY).unwrap();
            let cer = samples::cer(&sample.truth, &ocr::text(&pages));
            println!("{:<10} {:<30} {:>6} {:>8.4}", format!("{quality:?}"), doc_type, sample.dpi, cer);
            total += cer;

            let pdf = dir.path().join(format!("{doc_type}-{quality:?}.pdf"));
            std::fs::write(&pdf, ocr::searchable_pdf(&[&sample.bytes], &pages, LIMITS, ocr::TextPolicy::Keep).unwrap()).unwrap();
            let check = tool("qpdf", &["--check", pdf.to_str().unwrap()]);
            assert!(check.status.success(), "qpdf --check: {}", String::from_utf8_lossy(&check.stdout));
            let layer = pdftotext(&pdf);
            let mut layer_words: Vec<&str> = layer.split_whitespace().collect();
            let text = ocr::text(&pages);
            let mut words: Vec<&str> = text.split_whitespace().collect();
            layer_words.sort_unstable();
            words.sort_unstable();
            assert_eq!(layer_words, words, "the text layer holds other words than were recognised");
            let drift = samples::cer(&text, &layer);
            assert!(drift < 0.01, "pdftotext differs from the recognised text by {drift}:\n{layer}");
        }
        let mean = total / TYPES.len() as f64;
        println!("{:<10} {:<30} {:>6} {:>8.4}", format!("{quality:?}"), "mean", "", mean);
        assert!(mean <= bound, "{quality:?} pages: mean CER {mean:.4} above {bound}");
    }
}

#[test]
fn thin_light_strokes_are_read_whole() {
    // a typewriter face's hairlines, printed light and scanned at 150 dpi, fall apart under
    // the layout threshold: on these pages all but the bold heading went unread
    let catalog = catalog();
    let mut engine = Engine::new("vie").unwrap();
    let mono = samples::TUNING_FACES.iter().find(|f| f.name == "free-mono").copied();
    for (doc_type, seed) in [("birth_certificate", 7_000_021_001), ("criminal_record_certificate", 7_000_021_006)] {
        let sample = samples::generate_in(&catalog, doc_type, Quality::Poor, seed, mono).unwrap();
        let pages = ocr::recognise(&mut engine, &[&sample.bytes], LIMITS, ocr::SERVICE_POLICY).unwrap();
        let text = ocr::text(&pages);
        let cer = samples::cer(&sample.truth, &text);
        assert!(cer < 0.2, "{doc_type}: CER {cer:.3}:\n{text}");
        assert!(text.contains(&sample.fields["owner_id"]), "{doc_type}: the owner's id is read:\n{text}");
    }
}

#[test]
fn pages_of_several_inputs_make_one_pdf_and_blank_paper_says_so() {
    let catalog = catalog();
    let mut engine = Engine::new("vie").unwrap();
    let a = samples::generate(&catalog, "birth_certificate", Quality::Clean, 1).unwrap();
    let b = samples::generate(&catalog, "identity_card", Quality::Ordinary, 2).unwrap();
    let blank = image::GrayImage::from_pixel(1240, 1754, image::Luma([248]));
    let mut blank_png = std::io::Cursor::new(Vec::new());
    blank.write_to(&mut blank_png, image::ImageFormat::Png).unwrap();
    let inputs: [&[u8]; 3] = [&a.bytes, blank_png.get_ref(), &b.bytes];
    let pages = ocr::recognise(&mut engine, &inputs, LIMITS, ocr::SERVICE_POLICY).unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages[1].no_text && pages[1].text.is_empty() && pages[1].words.is_empty());
    assert!(pages[0].text.contains(&a.fields["owner_id"]));
    assert!(pages[2].text.contains(&b.fields["owner_id"]));
    let doc = lopdf::Document::load_mem(&ocr::searchable_pdf(&inputs, &pages, LIMITS, ocr::TextPolicy::Keep).unwrap()).unwrap();
    assert_eq!(doc.get_pages().len(), 3);
    // A4 at the page's resolution is 595 x 842 points
    let first = doc.get_dictionary(doc.get_pages()[&1]).unwrap();
    let media: Vec<f32> = first.get(b"MediaBox").unwrap().as_array().unwrap().iter().map(|o| o.as_float().unwrap()).collect();
    assert!((media[2] - 595.3).abs() < 1.5 && (media[3] - 841.9).abs() < 1.5, "{media:?}");
}

/// A page that only says it was left blank is read, as a line of text; blank paper with a
/// scanner's dust and shadow, or a poor scan's speckle, still says it has no text.
#[test]
fn a_page_left_blank_on_purpose_says_so_and_blank_paper_stays_blank() {
    let mut engine = Engine::new("vie").unwrap();
    let (mut notes, mut empty) = (0, 0);
    for seed in 1..=12 {
        for quality in [Quality::Ordinary, Quality::Poor] {
            let sample = samples::generate_unrelated(samples::Unrelated::Blank, quality, seed).unwrap();
            let page = ocr::recognise(&mut engine, &[&sample.bytes], LIMITS, ocr::SERVICE_POLICY).unwrap().remove(0);
            let what = format!("seed {seed} {quality:?} at {} dpi: {:?} read {:?}", sample.dpi, sample.truth, page.text);
            if sample.truth.is_empty() {
                empty += 1;
                assert!(page.no_text && page.words.is_empty(), "{what}");
            } else {
                notes += 1;
                assert!(!page.no_text, "{what}");
                assert!(page.text.contains("Trang") && samples::cer(&sample.truth, &page.text) < 0.35, "{what}");
            }
        }
    }
    assert!(notes >= 4 && empty >= 4, "{notes} notes, {empty} empty pages");
}

#[test]
fn a_page_turned_upside_down_or_sideways_is_read_upright() {
    let catalog = catalog();
    let mut engine = Engine::new("vie").unwrap();
    let sample = samples::generate(&catalog, "marriage_certificate", Quality::Clean, 5).unwrap();
    let page = image::load_from_memory(&sample.bytes).unwrap();
    for (turned, expected_turns) in [(page.rotate180(), 2), (page.rotate90(), 3)] {
        let mut png = std::io::Cursor::new(Vec::new());
        turned.write_to(&mut png, image::ImageFormat::Png).unwrap();
        let pages = ocr::recognise(&mut engine, &[png.get_ref()], LIMITS, ocr::SERVICE_POLICY).unwrap();
        assert_eq!(pages[0].quarter_turns, expected_turns);
        let evidence = &pages[0].orientation;
        assert_eq!(evidence.method, ocr::OrientationMethod::Reading, "{evidence:?}");
        let best = evidence.readings.iter().max_by(|a, b| a.score.total_cmp(&b.score)).unwrap();
        assert_eq!(best.turns, expected_turns, "the reading decided: {evidence:?}");
        let cer = samples::cer(&sample.truth, &ocr::text(&pages));
        assert!(cer < 0.02, "turned page read with CER {cer}");
    }
    // `scan --json` says which turn each page was given, beside the upright one's text
    let dir = tempfile::tempdir().unwrap();
    let (turned, upright) = (dir.path().join("turned.png"), dir.path().join("upright.png"));
    page.rotate90().save(&turned).unwrap();
    page.save(&upright).unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let out = Command::new(worker()).arg("scan").args([&turned, &upright]).arg("--json").arg("--policies").arg(&policies).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["quarter_turns"], serde_json::json!([3, 0]), "{json}");
    assert!(json["text"].as_str().unwrap().contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "{json}");
}

#[test]
fn a_reader_that_goes_away_ends_a_command_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("blank.png");
    image::GrayImage::from_pixel(400, 300, image::Luma([250])).save(&page).unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let mut child = Command::new(worker())
        .args(["scan", "--json", "--policies", policies.to_str().unwrap(), page.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `scan --json | head -c 0`: the reader is gone before the answer is written
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "ends by the closed pipe's signal: {:?}", out.status);
}

fn worker() -> PathBuf {
    // cargo builds the package's binary for its integration tests
    PathBuf::from(env!("CARGO_BIN_EXE_sohoa-worker"))
}

fn ocr_cli(input: &[u8], name: &str, dir: &Path) -> (i32, serde_json::Value) {
    let path = dir.join(name);
    std::fs::write(&path, input).unwrap();
    let out = Command::new(worker()).args(["ocr", path.to_str().unwrap(), "-o"]).arg(dir.join("out.pdf")).arg("--json").output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

fn pdf_with_image(width: i64, height: i64, data: Vec<u8>, filter: Option<&str>) -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    let mut doc = lopdf::Document::with_version("1.7");
    let pages = doc.new_object_id();
    let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 };
    if let Some(f) = filter {
        dict.set("Filter", f);
    }
    let image = doc.add_object(Stream::new(dict, data));
    let content = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec()));
    let page = doc
        .add_object(dictionary! { "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } } });
    doc.objects.insert(pages, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn bad_scans_fail_with_their_code_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog();
    let good = samples::generate(&catalog, "birth_certificate", Quality::Clean, 3).unwrap().bytes;
    let mut one = std::io::Cursor::new(Vec::new());
    image::GrayImage::new(1, 1).write_to(&mut one, image::ImageFormat::Png).unwrap();
    let mut bomb = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut bomb, &vec![255u8; 64 * 1024 * 1024]).unwrap();
    let bomb_pdf = pdf_with_image(1000, 1000, bomb.finish().unwrap(), Some("FlateDecode"));
    let mut empty = lopdf::Document::with_version("1.7");
    let pages = empty.add_object(lopdf::dictionary! { "Type" => "Pages", "Kids" => Vec::<lopdf::Object>::new(), "Count" => 0 });
    let root = empty.add_object(lopdf::dictionary! { "Type" => "Catalog", "Pages" => pages });
    empty.trailer.set("Root", root);
    let mut empty_pdf = Vec::new();
    empty.save_to(&mut empty_pdf).unwrap();
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, pdf_with_image(100, 100, vec![200u8; 10_000], None)).unwrap();
    let locked = dir.path().join("locked.pdf");
    let status = Command::new("qpdf").args(["--encrypt", "u", "o", "256", "--"]).arg(&plain).arg(&locked).status().unwrap();
    assert!(status.success());
    let encrypted = std::fs::read(&locked).unwrap();
    let jpeg = |width, height| {
        let mut out = std::io::Cursor::new(Vec::new());
        image::GrayImage::new(width, height).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    // a 100x100 JPEG whose frame header says 20000x20000 (SOF0: FF C0, length, precision, height, width)
    let mut huge = jpeg(100, 100);
    let sof = huge.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    huge[sof + 5..sof + 9].copy_from_slice(&[0x4E, 0x20, 0x4E, 0x20]);

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text posing as png", b"\x89PNG not really".to_vec(), "unsupported_media_type"),
        ("png signature and garbage", b"\x89PNG\r\n\x1a\ngarbage".to_vec(), "corrupt_image"),
        ("truncated png", good[..good.len() / 3].to_vec(), "corrupt_image"),
        ("1x1 png", one.into_inner(), "image_too_small"),
        ("pixel bomb pdf", bomb_pdf, "decompression_bomb"),
        ("encrypted pdf", encrypted, "encrypted_pdf"),
        ("pdf without pages", empty_pdf, "no_pages"),
        (
            "pdf without a page tree",
            b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(),
            "no_pages",
        ),
        ("malformed pdf", b"%PDF-1.7\n1 0 obj << /Type /Pag".to_vec(), "corrupt_pdf"),
        ("pdf page without image", pdf_with_image(100, 100, Vec::new(), None), "corrupt_pdf"),
        ("pdf with a 100x100 JPEG that is 20000x20000", pdf_with_image(100, 100, huge, Some("DCTDecode")), "too_many_pixels"),
        ("pdf with a 100x100 JPEG that is 120x100", pdf_with_image(100, 100, jpeg(120, 100), Some("DCTDecode")), "corrupt_pdf"),
        (
            "jpeg that makes zune-jpeg 0.5.15 panic",
            include_bytes!("../../tests/vectors/fuzz/zune-jpeg-idct-panic.jpg").to_vec(),
            "corrupt_image",
        ),
    ];
    for (what, bytes, code) in cases {
        let _ = std::fs::remove_file(dir.path().join("out.pdf"));
        let (exit, json) = ocr_cli(&bytes, "in.bin", dir.path());
        assert_eq!(exit, 1, "{what}");
        assert_eq!(json["error"]["code"], code, "{what}: {json}");
        assert!(!dir.path().join("out.pdf").exists(), "{what}: an output was written");
    }
    let (exit, json) = ocr_cli(&good, "good.png", dir.path());
    assert_eq!(exit, 0);
    assert!(json["pages"][0]["text"].as_str().unwrap().contains("GIẤY KHAI SINH"));
}

/// A fax-shaped page: CCITT Group 4 at 204 x 98 dpi, twice as many pixels to the inch
/// across as down (tests/vectors/scans/fax-204x98-g4.tif, an A4 page).
#[test]
fn a_fax_page_keeps_its_size_reads_with_square_pixels_and_stays_black_and_white() {
    let dir = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/scans/fax-204x98-g4.tif");
    let output = dir.path().join("out.pdf");
    let out = Command::new(worker()).args(["ocr", input.to_str().unwrap(), "--json", "-o"]).arg(&output).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let page = &json["pages"][0];
    assert_eq!((page["scan_width"].as_u64(), page["scan_height"].as_u64(), page["dpi"].as_f64()), (Some(1686), Some(2383), Some(204.0)));
    let text = pdftotext(&output);
    for words in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Hoàng Hữu Nam", "004076997531"] {
        assert!(text.contains(words), "{words:?} in {text}");
    }
    let doc = lopdf::Document::load(&output).unwrap();
    let (_, page_id) = doc.get_pages().into_iter().next().unwrap();
    let media: Vec<f32> =
        doc.get_dictionary(page_id).unwrap().get(b"MediaBox").unwrap().as_array().unwrap().iter().map(|o| o.as_float().unwrap()).collect();
    assert!((media[2] - 595.0).abs() < 2.0 && (media[3] - 842.0).abs() < 2.0, "an A4 page: {media:?}");
    let images = doc.get_page_images(page_id).unwrap();
    assert_eq!(images[0].filters.as_deref(), Some(&["CCITTFaxDecode".to_string()][..]));
    assert!(std::fs::metadata(&output).unwrap().len() < 20_000);
}

/// A PDF of two pages, the second holding an image too large to decode: that page is
/// refused alone, named with its reason, and kept in the copy as it is; the first is read.
#[test]
fn a_page_too_large_to_decode_is_refused_alone() {
    use lopdf::{dictionary, Object, Stream};
    let mut doc = lopdf::Document::with_version("1.7");
    let pages = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    let images = [(200i64, Vec::from([255u8; 200 * 200]), None), (20_000, b"not decoded".to_vec(), Some("DCTDecode"))];
    for (side, data, filter) in images {
        let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => side, "Height" => side, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 };
        if let Some(f) = filter {
            dict.set("Filter", f);
        }
        let image = doc.add_object(Stream::new(dict, data));
        let content = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 595 0 0 cm /Im0 Do Q".to_vec()));
        let page = doc
            .add_object(dictionary! { "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 595.into()],
            "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } } });
        kids.push(page.into());
    }
    doc.objects.insert(pages, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => 2 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();

    let mut engine = Engine::new("vie").unwrap();
    let read = ocr::recognise(&mut engine, &[&pdf], LIMITS, ocr::SERVICE_POLICY).unwrap();
    assert_eq!(read.len(), 2);
    assert!(read[0].unread.is_none());
    let why = read[1].unread.as_deref().unwrap_or_default();
    assert!(why.starts_with("unsupported_pdf_image: page 2 ") && why.contains("20000x20000"), "{why}");
    assert!(read[1].words.is_empty() && read[1].no_text);
    let copy = lopdf::Document::load_mem(&ocr::searchable_pdf(&[&pdf], &read, LIMITS, ocr::SERVICE_POLICY).unwrap()).unwrap();
    assert_eq!(copy.get_pages().len(), 2, "the unread page is kept in the copy");
    // a report with words on the unread page, or calling it read, does not fit the scan
    let mut lying = read.clone();
    lying[1].unread = None;
    assert!(ocr::searchable_pdf(&[&pdf], &lying, LIMITS, ocr::SERVICE_POLICY).is_err());
    // a file of that one page is refused, as before
    let one = pdf_with_image(20_000, 20_000, b"not decoded".to_vec(), Some("DCTDecode"));
    assert_eq!(ocr::recognise(&mut engine, &[&one], LIMITS, ocr::SERVICE_POLICY).unwrap_err().code(), "unsupported_pdf_image");
}
