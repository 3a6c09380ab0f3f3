//! Visible appearances stay on the page: signed PDFs rendered with pdftoppm at 72 dpi (one
//! pixel per point), their ink found inside the widget's box and nowhere at or past its edge,
//! and each line read back whole with pdftotext.

use super::{env, run, sample_pdf};
use image::GrayImage;
use lopdf::{dictionary, Document, Object};
use std::path::Path;

/// A pixel this dark or darker is ink; white paper renders 255.
const INK: u8 = 250;
/// How far around the box the page must stay blank, in points.
const RING: i64 = 6;

/// A blank one-page PDF with the given boxes, for ink that can only come from the appearance.
fn blank_page(media: [f32; 4], crop: Option<[f32; 4]>) -> Vec<u8> {
    let boxed = |b: [f32; 4]| Object::Array(b.iter().map(|v| Object::Real(*v)).collect());
    let mut doc = Document::with_version("1.7");
    let tree = doc.new_object_id();
    let mut page = dictionary! { "Type" => "Page", "Parent" => tree, "MediaBox" => boxed(media) };
    if let Some(c) = crop {
        page.set("CropBox", boxed(c));
    }
    let page = doc.add_object(page);
    doc.objects.insert(tree, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let root = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", root);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// The signature widget's `/Rect` on page 1 of a signed PDF, as `[x1 y1 x2 y2]`.
fn widget_rect(pdf: &Path) -> [f32; 4] {
    let doc = Document::load(pdf).unwrap();
    let widget = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| d.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig") && d.has(b"AP"))
        .expect("a signature widget with an appearance");
    let n: Vec<f32> = widget.get(b"Rect").unwrap().as_array().unwrap().iter().map(|o| o.as_float().unwrap()).collect();
    [n[0], n[1], n[2], n[3]]
}

/// Page 1 rendered at 72 dpi as viewers show it, the crop box.
struct Rendered {
    image: GrayImage,
    crop: [f32; 4],
}

impl Rendered {
    fn of(pdf: &Path, crop: [f32; 4]) -> Rendered {
        let stem = pdf.with_extension("");
        run(
            "pdftoppm",
            &["-r", "72", "-cropbox", "-png", "-f", "1", "-l", "1", "-singlefile", pdf.to_str().unwrap(), stem.to_str().unwrap()],
        );
        let image = image::open(stem.with_extension("png")).unwrap().to_luma8();
        let (w, h) = (crop[2] - crop[0], crop[3] - crop[1]);
        assert!((image.width() as f32 - w).abs() <= 1.0 && (image.height() as f32 - h).abs() <= 1.0, "the page renders at 1 px/pt");
        Rendered { image, crop }
    }

    /// A page-space box as pixel columns and rows `[c0, r0, c1, r1)`.
    fn pixels(&self, [x1, y1, x2, y2]: [f32; 4]) -> [i64; 4] {
        let [cx, _, _, cy] = self.crop;
        [(x1 - cx).round() as i64, (cy - y2).round() as i64, (x2 - cx).round() as i64, (cy - y1).round() as i64]
    }

    /// Ink pixels with `inside(col, row)`, and the topmost row among them.
    fn ink(&self, inside: impl Fn(i64, i64) -> bool) -> (usize, Option<i64>) {
        let mut count = 0;
        let mut top = None;
        for (c, r, p) in self.image.enumerate_pixels() {
            if p.0[0] <= INK && inside(c as i64, r as i64) {
                count += 1;
                top = Some(top.map_or(r as i64, |t: i64| t.min(r as i64)));
            }
        }
        (count, top)
    }

    /// Asserts the appearance's ink lies inside `rect`, clear of its edges, and that the page
    /// around it is blank.
    fn assert_ink_inside(&self, rect: [f32; 4], what: &str) {
        let [c0, r0, c1, r1] = self.pixels(rect);
        let within = |c: i64, r: i64, m: i64| c >= c0 - m && c < c1 + m && r >= r0 - m && r < r1 + m;
        let (inside, top) = self.ink(|c, r| within(c, r, -1));
        assert!(inside > 100, "{what}: little ink in the box ({inside} px)");
        let (edge, _) = self.ink(|c, r| within(c, r, 0) && !within(c, r, -1));
        assert_eq!(edge, 0, "{what}: ink on the box's edge: text or image cut by its border");
        let (ring, _) = self.ink(|c, r| within(c, r, RING) && !within(c, r, 0));
        assert_eq!(ring, 0, "{what}: ink just outside the box");
        // the first line is drawn, near the top, not pushed out above it
        assert!(top.is_some_and(|t| t < r0 + (r1 - r0) / 2), "{what}: no ink in the upper half of the box");
    }

    /// The words pdftotext reads with their centres inside `rect`, in reading order on one
    /// line; each must lie wholly inside the box.
    fn text_in(&self, pdf: &Path, rect: [f32; 4]) -> String {
        let [c0, r0, c1, r1] = self.pixels(rect).map(|v| v as f32);
        let html = run("pdftotext", &["-f", "1", "-l", "1", "-cropbox", "-bbox", pdf.to_str().unwrap(), "-"]);
        let mut words = Vec::new();
        for line in html.lines().map(str::trim).filter(|l| l.starts_with("<word ")) {
            let attr = |name: &str| -> f32 {
                let from = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                line[from..].split('"').next().unwrap().parse().unwrap()
            };
            let [x1, y1, x2, y2] = ["xMin", "yMin", "xMax", "yMax"].map(attr);
            let text = line.split('>').nth(1).unwrap().trim_end_matches("</word").to_string();
            let (cx, cy) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
            if cx > c0 && cx < c1 && cy > r0 && cy < r1 {
                let whole = x1 >= c0 - 0.5 && x2 <= c1 + 0.5 && y1 >= r0 - 0.5 && y2 <= r1 + 0.5;
                assert!(whole, "{text:?} at [{x1} {y1} {x2} {y2}] reaches out of the box [{c0} {r0} {c1} {r1}]");
                words.push((y1, x1, text));
            }
        }
        words.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        words.into_iter().map(|(_, _, t)| t).collect::<Vec<_>>().join(" ")
    }
}

/// Signs `input` as official1 with `--visible` and the extra arguments; returns the output path.
fn sign_visible(name: &str, input: &[u8], visible: &str, extra: &[&str]) -> std::path::PathBuf {
    let env = env();
    let (src, out) = (env.path(&format!("{name}-in.pdf")), env.path(&format!("{name}.pdf")));
    std::fs::write(&src, input).unwrap();
    let mut args = vec!["--visible", visible];
    args.extend_from_slice(extra);
    env.sign(&src, &out, "official1", &args);
    out
}

fn assert_signer_lines(text: &str, what: &str) {
    for phrase in ["Ký bởi: Nguyễn Văn An", "Chức vụ: Chủ tịch", "Thời gian ký:"] {
        assert!(text.contains(phrase), "{what}: {phrase:?} not whole in the box: {text:?}");
    }
    for word in ["UBND", "Dịch", "Vọng,", "Cầu", "Giấy,", "Hà", "Nội"] {
        assert!(text.split(' ').any(|w| w == word), "{what}: {word:?} missing from the box: {text:?}");
    }
}

#[test]
fn a_120_by_40_box_holds_every_line_whole() {
    let out = sign_visible("ap-small", &sample_pdf(false), "1,60,60,120,40", &[]);
    let rect = widget_rect(&out);
    assert_eq!(rect, [60.0, 60.0, 180.0, 100.0]);
    let page = Rendered::of(&out, [0.0, 0.0, 595.0, 842.0]);
    page.assert_ink_inside(rect, "120x40 box");
    assert_signer_lines(&page.text_in(&out, rect), "120x40 box");
    assert!(env().pdfsig(&out).contains("Signature is Valid."));
}

#[test]
fn a_box_with_images_keeps_them_above_the_text_and_inside() {
    let env = env();
    let (image, seal) = (env.pki("official1.png"), env.pki("seal.png"));
    let out = sign_visible(
        "ap-images",
        &blank_page([0.0, 0.0, 595.0, 842.0], None),
        "1,300,80,230,90",
        &["--image", &image, "--seal-image", &seal],
    );
    let rect = widget_rect(&out);
    let page = Rendered::of(&out, [0.0, 0.0, 595.0, 842.0]);
    page.assert_ink_inside(rect, "box with images");
    assert_signer_lines(&page.text_in(&out, rect), "box with images");
}

#[test]
fn a_box_partly_off_the_page_is_moved_onto_it() {
    let out = sign_visible("ap-off", &blank_page([0.0, 0.0, 595.0, 842.0], None), "1,520,800,150,60", &[]);
    let rect = widget_rect(&out);
    assert_eq!(rect, [445.0, 782.0, 595.0, 842.0], "moved left and down, same size");
    let page = Rendered::of(&out, [0.0, 0.0, 595.0, 842.0]);
    page.assert_ink_inside(rect, "box off the page");
    assert_signer_lines(&page.text_in(&out, rect), "box off the page");
}

#[test]
fn a_page_whose_boxes_are_off_the_origin_gets_the_box_on_its_visible_part() {
    let (media, crop) = ([0.0, 200.0, 595.0, 1042.0], [50.0, 250.0, 545.0, 992.0]);
    let out = sign_visible("ap-origin", &blank_page(media, Some(crop)), "1,60,60,200,70", &[]);
    let rect = widget_rect(&out);
    assert_eq!(rect, [60.0, 250.0, 260.0, 320.0], "lifted from below the crop box onto it");
    let page = Rendered::of(&out, crop);
    page.assert_ink_inside(rect, "crop box off the origin");
    assert_signer_lines(&page.text_in(&out, rect), "crop box off the origin");
}

#[test]
fn a_box_too_small_for_the_text_at_the_floor_is_refused() {
    let env = env();
    let (src, out) = (env.path("ap-tiny-in.pdf"), env.path("ap-tiny.pdf"));
    std::fs::write(&src, sample_pdf(false)).unwrap();
    let (key, cert) = (env.pki("official1.key"), env.pki("official1.pem"));
    let args = ["sign", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--key", &key, "--cert", &cert, "--visible", "1,60,60,60,12"];
    let result = super::sohoa(&args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success() && stderr.contains("60.0 x 12.0 pt"), "{stderr}");
    assert!(!out.exists());
}

/// The agency's seal on a digitized copy: the OCR worker's pages have real-valued sizes, and
/// scanned PDFs may carry boxes off the origin; the seal sits at the visible top right.
#[test]
fn the_seal_stays_at_the_top_right_of_the_visible_page_with_its_lines_whole() {
    let env = env();
    let signer = sohoa::sign::FileSigner::from_files(
        Path::new(&env.pki("seal.key")),
        Path::new(&env.pki("seal.pem")),
        Some(Path::new(&env.pki("root.pem"))),
    )
    .unwrap();
    let agency = "UBND phường Dịch Vọng, quận Cầu Giấy, thành phố Hà Nội";
    let time = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:30:00+07:00").unwrap();
    let pages = [
        ("worker", [0.0, 0.0, 595.44, 842.04], None),
        ("media-off-origin", [-20.0, 100.0, 575.0, 942.0], None),
        ("cropped", [0.0, 0.0, 612.0, 1008.0], Some([0.0, 0.0, 595.0, 842.0])),
    ];
    for (name, media, crop) in pages {
        let sealed = sohoa::seal::seal_pdf(&blank_page(media, crop), &signer, agency, time).unwrap();
        let out = env.path(&format!("ap-seal-{name}.pdf"));
        std::fs::write(&out, sealed).unwrap();
        let visible = crop.unwrap_or(media);
        let rect = widget_rect(&out);
        assert!((rect[2] - (visible[2] - 18.0)).abs() < 0.01 && (rect[3] - (visible[3] - 18.0)).abs() < 0.01, "{name}: {rect:?}");
        let page = Rendered::of(&out, visible);
        page.assert_ink_inside(rect, name);
        let text = page.text_in(&out, rect);
        for line in ["Bản sao điện tử", "2026-11-24T09:30:00+07:00"] {
            assert!(text.contains(line), "{name}: {line:?} not whole in the seal: {text:?}");
        }
        assert!(text.contains(agency) || agency.split(' ').all(|w| text.split(' ').any(|t| t == w)), "{name}: {text:?}");
        assert!(env.pdfsig(&out).contains("Signature is Valid."), "{name}");
    }
}
