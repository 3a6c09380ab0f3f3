//! What the scanning desk shows of a recognised scan: a page of its searchable copy drawn as
//! a PNG, and its record's fields with boxes on that page. The boxes are checked against the
//! pixels of the drawing: a field's box is ink, and reading the box again gives the field.

use crate::common::*;
use image::{DynamicImage, GrayImage};
use serde_json::{json, Value};
use sohoa::domain::Role;
use std::time::Duration;

const MOTHER: &str = "001186012345";

async fn dossier(app: &TestApp) -> String {
    let body = json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": MOTHER, "name": "Nguyễn Thị Hoa"}});
    let created = app.create_dossier(app.token(Role::Scanner), body).await;
    assert_eq!(created.status(), 201);
    created.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
}

/// Uploads `bytes` for the birth notice and waits until the scan is sealed; its id.
async fn sealed_scan(app: &TestApp, code: &str, bytes: Vec<u8>) -> i64 {
    let response = app.upload(app.token(Role::Scanner), code, "hospital_birth_notice", bytes, None).await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["scan"]["id"].as_i64().unwrap();
    // recognition of a turned page in a debug build on a busy machine takes a while
    for _ in 0..1800 {
        let (_, scan) = app.get_json(app.token(Role::Scanner), &format!("/scans/{id}")).await;
        match scan["status"].as_str() {
            Some("sealed") => return id,
            Some("failed" | "unsealed") => panic!("scan {id} did not seal: {scan}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("scan {id} was never sealed");
}

/// The scan's page `page` drawn `width` pixels wide, in grey.
async fn preview(app: &TestApp, scan: i64, page: u32, width: u32) -> GrayImage {
    let response = app.get(app.token(Role::Scanner), &format!("/scans/{scan}/pages/{page}/preview?width={width}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    image::load_from_memory(&response.bytes().await.unwrap()).unwrap().to_luma8()
}

/// The box around a field's word boxes on `page`, in pixels of `image`.
fn field_box(view: &Value, name: &str, image: &GrayImage) -> (u32, u32, u32, u32) {
    let field = view["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no {name}: {view}"));
    let boxes = field["boxes"].as_array().unwrap();
    assert!(!boxes.is_empty(), "{name} has no boxes: {view}");
    let f = |b: &Value, k: &str| b[k].as_f64().unwrap();
    let left = boxes.iter().map(|b| f(b, "x")).fold(1.0, f64::min);
    let top = boxes.iter().map(|b| f(b, "y")).fold(1.0, f64::min);
    let right = boxes.iter().map(|b| f(b, "x") + f(b, "w")).fold(0.0, f64::max);
    let bottom = boxes.iter().map(|b| f(b, "y") + f(b, "h")).fold(0.0, f64::max);
    let (w, h) = (image.width() as f64, image.height() as f64);
    let (x0, y0) = ((left * w).floor() as u32, (top * h).floor() as u32);
    let (x1, y1) = (((right * w).ceil() as u32).min(image.width()), ((bottom * h).ceil() as u32).min(image.height()));
    (x0, y0, x1 - x0, y1 - y0)
}

fn mean(image: &GrayImage) -> f64 {
    image.pixels().map(|p| p.0[0] as f64).sum::<f64>() / (image.width() * image.height()) as f64
}

/// What Tesseract reads in the region `(x, y, w, h)` of `image` (with a margin), turned by
/// `quarter_turns` clockwise first, as one line of text.
fn read_again(image: &GrayImage, (x, y, w, h): (u32, u32, u32, u32), quarter_turns: u8) -> String {
    let pad = w.min(h) / 2 + 4;
    let (x0, y0) = (x.saturating_sub(pad), y.saturating_sub(pad));
    let (x1, y1) = ((x + w + pad).min(image.width()), (y + h + pad).min(image.height()));
    let crop = DynamicImage::ImageLuma8(image::imageops::crop_imm(image, x0, y0, x1 - x0, y1 - y0).to_image());
    let crop = match quarter_turns % 4 {
        1 => crop.rotate90(),
        2 => crop.rotate180(),
        3 => crop.rotate270(),
        _ => crop,
    };
    // Tesseract reads best with letters about 30 pixels high
    let scale = (60.0 / crop.height().min(crop.width()) as f32).max(1.0);
    let crop =
        crop.resize((crop.width() as f32 * scale) as u32, (crop.height() as f32 * scale) as u32, image::imageops::FilterType::Triangle);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crop.png");
    crop.save(&path).unwrap();
    let out = std::process::Command::new("tesseract")
        .arg(&path)
        .args(["stdout", "-l", "vie", "--psm", "7"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .expect("tesseract runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Edits between `a` and `b`: a box on the id reads it with a slip at most, a box anywhere
/// else reads nothing like it.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut last = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(last + usize::from(ca != *cb));
            last = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Checks that the owner id's box on `image` is ink and reads as the id (turned upright by
/// `quarter_turns` first), and that the other fields' boxes are ink too.
fn assert_fields_on_their_words(view: &Value, image: &GrayImage, quarter_turns: u8, what: &str) {
    let page_mean = mean(image);
    for field in view["fields"].as_array().unwrap().iter().filter(|f| !f["boxes"].as_array().unwrap().is_empty()) {
        let name = field["name"].as_str().unwrap();
        let (x, y, w, h) = field_box(view, name, image);
        let region = image::imageops::crop_imm(image, x, y, w, h).to_image();
        let dark = mean(&region);
        assert!(
            dark < page_mean - 20.0,
            "{what}: the box of {name} at {x},{y} {w}x{h} is not on print ({dark:.0} against the page's {page_mean:.0})"
        );
    }
    let owner = field_box(view, "owner_id", image);
    let read = read_again(image, owner, quarter_turns);
    assert!(distance(&digits(&read), MOTHER) <= 2, "{what}: the owner id's box reads {read:?}");
}

#[tokio::test]
async fn a_sealed_scan_s_page_is_drawn_with_its_fields_boxed_on_their_words() {
    let app = TestApp::spawn_with(|c| c.workers = 1).await;
    let code = dossier(&app).await;
    let scan = sealed_scan(&app, &code, sample_scan()).await;
    let scanner = app.token(Role::Scanner);

    let (status, view) = app.get_json(scanner, &format!("/scans/{scan}/pages")).await;
    assert_eq!(status, 200, "{view}");
    let (_, dossier) = app.get_json(scanner, &format!("/dossiers/{code}")).await;
    let item = dossier["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").unwrap().clone();
    assert_eq!(view["record"], item["record"], "the fields are the record's");
    assert_eq!(view["pages"].as_array().unwrap().len(), 1);
    let (width, height) = (view["pages"][0]["width"].as_f64().unwrap(), view["pages"][0]["height"].as_f64().unwrap());
    assert!((width - 595.0).abs() < 3.0 && (height - 842.0).abs() < 3.0, "an A4 page as shown: {view}");
    let owner = view["fields"].as_array().unwrap().iter().find(|f| f["name"] == "owner_id").unwrap();
    assert_eq!((owner["value"].as_str(), owner["corrected"].as_bool()), (Some(MOTHER), Some(false)), "{view}");

    let image = preview(&app, scan, 1, 800).await;
    assert_eq!((image.width(), image.height()), (800, (800.0 * height / width).round() as u32));
    assert_fields_on_their_words(&view, &image, 0, "upright image");
    // another width, the same place: boxes are fractions of the page
    let small = preview(&app, scan, 1, 400).await;
    let (x, y, _, _) = field_box(&view, "owner_id", &small);
    let (x2, y2, _, _) = field_box(&view, "owner_id", &image);
    assert!(x.abs_diff(x2 / 2) <= 1 && y.abs_diff(y2 / 2) <= 1);

    // a correction keeps where each field was read, with the desk's value
    let (status, body) = app
        .post_json(
            scanner,
            &format!("/scans/{scan}/correction"),
            json!({"doc_type": "hospital_birth_notice", "fields": {"owner_id": MOTHER}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, corrected) = app.get_json(scanner, &format!("/scans/{scan}/pages")).await;
    assert_ne!(corrected["record"], view["record"], "the corrected record stands for the scan");
    let owner = corrected["fields"].as_array().unwrap().iter().find(|f| f["name"] == "owner_id").unwrap();
    assert_eq!(owner["corrected"], true);
    assert_eq!(owner["boxes"], view["fields"].as_array().unwrap().iter().find(|f| f["name"] == "owner_id").unwrap()["boxes"]);

    // bounded like the result preview, and only within the agency
    assert_problem(app.get(scanner, &format!("/scans/{scan}/pages/1/preview?width=1601")).await, 422, "invalid_width").await;
    assert_problem(app.get(scanner, &format!("/scans/{scan}/pages/1/preview?width=99")).await, 422, "invalid_width").await;
    assert_problem(app.get(scanner, &format!("/scans/{scan}/pages/2/preview")).await, 404, "page_not_found").await;
    let tall = preview(&app, scan, 1, 1600).await;
    assert!(u64::from(tall.width()) * u64::from(tall.height()) <= 4_000_000, "{}x{}", tall.width(), tall.height());
    for path in [format!("/scans/{scan}/pages"), format!("/scans/{scan}/pages/1/preview")] {
        assert_problem(app.get(&app.other_scanner, &path).await, 404, "scan_not_found").await;
        assert_eq!(app.get(app.token(Role::Consumer), &path).await.status(), 403);
    }
    app.stop().await;
}

/// A PDF of one page holding `image`, the page as large as the image at 150 dpi.
fn image_pdf(image: &GrayImage) -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(image).unwrap();
    let (w, h) = (image.width() as f32 * 72.0 / 150.0, image.height() as f32 * 72.0 / 150.0);
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let im = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => image.width(), "Height" => image.height(),
        "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
        jpeg,
    ));
    let content = doc.add_object(Stream::new(dictionary! {}, format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q").into_bytes()));
    let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => tree,
    "MediaBox" => vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)], "Contents" => content,
    "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => im } } });
    doc.objects.insert(tree, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![Object::from(page)], "Count" => 1 }));
    let root = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", root);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn a_page_scanned_a_quarter_turned_has_its_fields_boxed_where_they_are_shown() {
    let app = TestApp::spawn_with(|c| c.workers = 1).await;
    let code = dossier(&app).await;
    // the notice fed into the scanner sideways: a quarter turn clockwise
    let turned = image::load_from_memory(&sample_scan()).unwrap().rotate90().to_luma8();
    let mut png = Vec::new();
    DynamicImage::ImageLuma8(turned.clone()).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let as_image = sealed_scan(&app, &code, png).await;
    let as_pdf = sealed_scan(&app, &code, image_pdf(&turned)).await;
    let scanner = app.token(Role::Scanner);

    // an image's copy is drawn upright: the boxes are upright too
    let (status, view) = app.get_json(scanner, &format!("/scans/{as_image}/pages")).await;
    assert_eq!(status, 200, "{view}");
    let page = &view["pages"][0];
    assert!(page["height"].as_f64().unwrap() > page["width"].as_f64().unwrap(), "the copy's page stands upright: {view}");
    let image = preview(&app, as_image, 1, 800).await;
    assert_fields_on_their_words(&view, &image, 0, "turned image, drawn upright");

    // a PDF's copy keeps the page as scanned, on its side: the boxes are turned back onto it
    let (status, view) = app.get_json(scanner, &format!("/scans/{as_pdf}/pages")).await;
    assert_eq!(status, 200, "{view}");
    let page = &view["pages"][0];
    assert!(page["width"].as_f64().unwrap() > page["height"].as_f64().unwrap(), "the copy keeps the page on its side: {view}");
    let image = preview(&app, as_pdf, 1, 1000).await;
    let (_, _, w, h) = field_box(&view, "owner_id", &image);
    assert!(h > w, "the owner id runs down the page on its side: {w}x{h}");
    // read upright, the box is turned back a quarter (three quarters clockwise)
    assert_fields_on_their_words(&view, &image, 3, "turned PDF page, kept as scanned");
    app.stop().await;
}
