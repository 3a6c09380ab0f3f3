//! The scan quality gate: each page of an upload is measured (resolution, blur, skew, blank,
//! text cut at an edge, too dark, too light) against the limits of `policies/`, so that the
//! desk is told to scan a page again while the citizen is still there.

mod measure;

pub use measure::{measure, Measures};

use crate::intake::MediaLimits;
use crate::pages::{self, PageError, Want};
use crate::policy::ScanQuality;
use serde::{Deserialize, Serialize};

/// What the gate found in one upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Whether any finding advises scanning again.
    pub rescan_advised: bool,
    pub findings: Vec<Finding>,
    /// The measures of each page measured, in order.
    pub pages: Vec<PageMeasures>,
    /// Set when pages were left unmeasured: past `max_pages`, or unreadable here (recognition
    /// reports those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

/// One problem on one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Page number, from 1.
    pub page: u32,
    /// Stable code: `low_dpi`, `blurred`, `skewed`, `blank`, `text_cut`, `too_dark`, `too_light`.
    pub code: String,
    /// What to tell the scanner, in Vietnamese.
    pub reason: String,
    /// The measured value and the limit it passed.
    pub value: f64,
    pub limit: f64,
}

/// A page's measures as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageMeasures {
    pub page: u32,
    pub dpi: f64,
    pub blur_mm: Option<f64>,
    pub skew: Option<f64>,
    pub marks: f64,
    pub paper: f64,
    pub contrast: f64,
    /// Pieces of letters cut by the left, top, right and bottom edges.
    pub cut_marks: [u32; 4],
}

const EDGES: [&str; 4] = ["trái", "trên", "phải", "dưới"];
const LIGHT: &str = "Ảnh quá nhạt, chữ mờ khó đọc, đề nghị quét lại";

fn round(v: f32, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (f64::from(v) * f).round() / f
}

/// The findings on one page from its measures.
pub fn judge(page: u32, m: &Measures, limits: &ScanQuality) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |code: &str, reason: String, value: f64, limit: f64| {
        out.push(Finding { page, code: code.to_owned(), reason, value, limit });
    };
    if m.dpi < limits.min_dpi {
        let reason = format!("Độ phân giải quá thấp ({:.0} dpi, cần ít nhất {:.0} dpi), đề nghị quét lại", m.dpi, limits.min_dpi);
        add("low_dpi", reason, round(m.dpi, 0), f64::from(limits.min_dpi));
    }
    // On paper this dark the marks cannot be told from it: the page is dark, not blank.
    if m.paper < limits.min_paper {
        add("too_dark", "Ảnh quá tối, đề nghị quét lại".into(), round(m.paper, 0), f64::from(limits.min_paper));
    } else if m.marks < limits.min_marks {
        add(
            "blank",
            "Trang trắng hoặc gần như trắng, đề nghị kiểm tra mặt giấy và quét lại".into(),
            round(m.marks, 4),
            f64::from(limits.min_marks),
        );
        // What little there is may be text too faint to see; nothing else can be judged.
        if m.contrast > 0.0 && m.contrast < limits.min_contrast {
            add("too_light", LIGHT.into(), round(m.contrast, 0), f64::from(limits.min_contrast));
        }
        return out;
    }
    if m.paper >= limits.min_paper && m.contrast < limits.min_contrast {
        add("too_light", LIGHT.into(), round(m.contrast, 0), f64::from(limits.min_contrast));
    }
    if let Some(blur) = m.blur_mm.filter(|b| *b > limits.max_blur_mm) {
        add("blurred", "Ảnh bị mờ, đề nghị quét lại".into(), round(blur, 2), f64::from(limits.max_blur_mm));
    }
    if let Some(skew) = m.skew.filter(|s| s.abs() > limits.max_skew_degrees) {
        let reason = format!("Trang bị nghiêng {:.0}°, đề nghị đặt thẳng giấy và quét lại", skew.abs());
        add("skewed", reason, round(skew, 1), f64::from(limits.max_skew_degrees));
    }
    for (edge, &cut) in m.cut_marks.iter().enumerate() {
        if cut > limits.max_cut_marks {
            let reason = format!("Chữ bị cắt ở mép {} của trang, đề nghị đặt lại giấy và quét lại", EDGES[edge]);
            add("text_cut", reason, f64::from(cut), f64::from(limits.max_cut_marks));
        }
    }
    out
}

/// Measures the pages of an upload that intake accepted, one at a time, the first
/// `max_pages` of them. Never fails: a page this reader cannot take ends the measuring
/// and is named in `unmeasured`. CPU-bound: call off the async threads.
pub fn assess(bytes: &[u8], media: MediaLimits, limits: &ScanQuality) -> Report {
    let mut report = Report { rescan_advised: false, findings: Vec::new(), pages: Vec::new(), unmeasured: None };
    let want = Want { pixels: true, original: false, text: None };
    let mut number = 0u32;
    let read = pages::for_each(bytes, media, want, |page| {
        number += 1;
        if number > limits.max_pages {
            return Err(Stop::Enough);
        }
        let Some(pixels) = page.pixels else { return Ok(()) };
        let m = measure(&pixels, page.dpi);
        report.findings.extend(judge(number, &m, limits));
        report.pages.push(PageMeasures {
            page: number,
            dpi: round(m.dpi, 0),
            blur_mm: m.blur_mm.map(|b| round(b, 3)),
            skew: m.skew.map(|s| round(s, 1)),
            marks: round(m.marks, 4),
            paper: round(m.paper, 0),
            contrast: round(m.contrast, 0),
            cut_marks: m.cut_marks,
        });
        Ok(())
    });
    match read {
        Ok(()) => {}
        Err(Stop::Enough) => report.unmeasured = Some(format!("pages after {} are not measured", limits.max_pages)),
        Err(Stop::Page(e)) => report.unmeasured = Some(format!("page {} and later are not measured: {}", number + 1, e.code())),
    }
    report.rescan_advised = !report.findings.is_empty();
    report
}

enum Stop {
    Enough,
    Page(PageError),
}

impl From<PageError> for Stop {
    fn from(e: PageError) -> Self {
        Stop::Page(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, Luma};

    const MEDIA: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 5, max_scan_pixels: 100_000_000 };

    /// An A4 page at 100 dpi with rows of dark letter-sized blocks between `from` and `to`
    /// (fractions of the width).
    fn page(from: f32, to: f32) -> GrayImage {
        let (w, h) = (827u32, 1169u32);
        GrayImage::from_fn(w, h, |x, y| {
            let (fx, row) = (x as f32 / w as f32, y % 28);
            let letter = (x / 6) % 3 != 2;
            let inked = fx >= from && fx <= to && (150..1000).contains(&y) && (8..20).contains(&row) && letter;
            Luma([if inked { 20 } else { 245 }])
        })
    }

    fn codes(image: GrayImage) -> Vec<String> {
        let m = measure(&DynamicImage::ImageLuma8(image), 100.0);
        judge(1, &m, &ScanQuality { min_dpi: 90.0, ..ScanQuality::default() }).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_plain_page_passes_and_each_fault_is_named() {
        assert_eq!(codes(page(0.12, 0.88)), Vec::<String>::new());
        assert_eq!(codes(GrayImage::from_pixel(827, 1169, Luma([245]))), ["blank"]);
        let plain = page(0.12, 0.88);
        let dark = GrayImage::from_fn(827, 1169, |x, y| Luma([plain.get_pixel(x, y)[0] / 4]));
        assert!(codes(dark).contains(&"too_dark".to_owned()));
        let light = GrayImage::from_fn(827, 1169, |x, y| Luma([255 - (255 - plain.get_pixel(x, y)[0]) / 8]));
        assert!(codes(light).contains(&"too_light".to_owned()));
        assert!(codes(page(0.0, 0.7)).contains(&"text_cut".to_owned()));
    }

    #[test]
    fn anything_the_reader_takes_is_assessed_without_failing() {
        let limits = ScanQuality::default();
        let report = assess(b"not an image", MEDIA, &limits);
        assert!(!report.rescan_advised && report.pages.is_empty());
        assert!(report.unmeasured.unwrap().contains("unsupported_media_type"));
        let mut png = std::io::Cursor::new(Vec::new());
        GrayImage::from_pixel(620, 877, Luma([250])).write_to(&mut png, image::ImageFormat::Png).unwrap();
        let report = assess(png.get_ref(), MEDIA, &limits);
        let found: Vec<&str> = report.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(found, ["low_dpi", "blank"]);
        assert!(report.rescan_advised && report.findings[0].reason.contains("Độ phân giải"));
    }
}
