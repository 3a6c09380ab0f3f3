//! Entries of civil-status register pages (sổ hộ tịch): the page is turned upright and
//! deskewed as any scan, its ruled table found from the rulings themselves (long straight
//! runs of ink), each cell read on its own inside its rulings, the columns named by their
//! headings, and one entry made of each row below the heading row.

use super::{recognise_with, Engine, OcrError, PageText, Read, Word};
use image::GrayImage;
use sohoa_protocol::classify::{date_in_text, fold};
use sohoa_protocol::domain::CitizenId;
use sohoa_protocol::intake::MediaLimits;
pub use sohoa_protocol::register::{Cell, Entry, Region};
use std::collections::BTreeMap;

/// Column headings (folded) and the field each names; a column matching none (a place,
/// notes) is read into the entry's text only.
const HEADINGS: [(&str, &str); 9] = [
    ("so dinh danh", "owner_id"),
    ("so cccd", "owner_id"),
    ("ho va ten", "full_name"),
    ("ho ten", "full_name"),
    ("ngay dang ky", "registration_date"),
    ("ngay sinh", "date_of_birth"),
    ("ngay chet", "date_of_death"),
    ("ngay mat", "date_of_death"),
    ("so", "entry_number"),
];

/// Every entry of every register page of `inputs`, in page and row order. A page without a
/// ruled table whose headings name at least two fields gives none.
pub fn entries(engine: &mut Engine, inputs: &[&[u8]], limits: MediaLimits) -> Result<Vec<Entry>, OcrError> {
    Ok(read(engine, inputs, limits)?.1)
}

/// The words of every page of `inputs`, as [`super::recognise`] reads them, and the entries of
/// those that are register pages, from the same reading of each page. A PDF page that carries
/// its own text is not a scanned register page and gives none.
pub fn read(engine: &mut Engine, inputs: &[&[u8]], limits: MediaLimits) -> Result<(Vec<PageText>, Vec<Entry>), OcrError> {
    let mut found = Vec::new();
    let pages = recognise_with(engine, inputs, limits, super::SERVICE_POLICY, |engine, read, number| {
        found.extend(page_entries(engine, read, number)?);
        Ok(())
    })?;
    Ok((pages, found))
}

fn page_entries(engine: &mut Engine, read: &Read, page: u32) -> Result<Vec<Entry>, OcrError> {
    let (image, binary) = (&read.prepared.image, &read.layout);
    let (w, h) = binary.dimensions();
    let gap = (read.dpi / 60).max(2);
    let rows = rulings(h, w, |along, at| ink(binary, along, at), w * 45 / 100, gap);
    let (Some(&top), Some(&bottom)) = (rows.first(), rows.last()) else { return Ok(Vec::new()) };
    let columns = rulings(w, h, |along, at| along >= top && along <= bottom && ink(binary, at, along), (bottom - top) * 6 / 10, gap);
    if columns.len() < 3 {
        return Ok(Vec::new());
    }
    let min_band = read.dpi / 10;
    let bands: Vec<(u32, u32)> = rows.windows(2).map(|r| (r[0], r[1])).filter(|(a, b)| b - a >= min_band).collect();
    let mut fields: Option<Vec<Option<&str>>> = None;
    let mut out = Vec::new();
    let up = |v: u32| (v as f32 / read.prepared.scale).round() as u32;
    for (y0, y1) in bands {
        let mut cells = Vec::with_capacity(columns.len() - 1);
        for x in columns.windows(2) {
            cells.push(read_cell(engine, image, binary, (x[0], y0, x[1], y1), read.dpi)?);
        }
        let Some(named) = &fields else {
            // rows above the headings (none on a plain book page) are not entries
            let named: Vec<Option<&str>> = cells.iter().map(|(text, _)| heading(text)).collect();
            if named.iter().flatten().count() >= 2 {
                fields = Some(named);
            }
            continue;
        };
        let text = cells.iter().map(|(t, _)| t.as_str()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" | ");
        if text.is_empty() {
            continue;
        }
        let mut values = BTreeMap::new();
        for ((cell, conf), field) in cells.iter().zip(named) {
            if let Some(field) = field {
                if let Some(value) = value_of(field, cell, *conf) {
                    values.insert((*field).to_owned(), value);
                }
            }
        }
        let (x0, x1) = (columns[0], columns[columns.len() - 1]);
        let region = Region { x: up(x0), y: up(y0), w: up(x1 - x0), h: up(y1 - y0) };
        out.push(Entry { page, region, fields: values, text });
    }
    Ok(out)
}

fn ink(binary: &GrayImage, x: u32, y: u32) -> bool {
    binary.get_pixel(x, y)[0] < 128
}

/// Where straight rulings cross an axis of `count` positions: a position is ruled when, over
/// a few neighbouring positions (a ruling left a little slanted by deskewing spans several),
/// ink runs along the other axis (`length` long) at least `min_run` with gaps of at most
/// `gap`; neighbouring ruled positions make one ruling, given at its middle.
fn rulings(count: u32, length: u32, ink: impl Fn(u32, u32) -> bool, min_run: u32, gap: u32) -> Vec<u32> {
    let span = gap + 1;
    let mut ruled = Vec::new();
    for at in 0..count.saturating_sub(span) {
        let (mut run, mut best, mut since) = (0u32, 0u32, 0u32);
        for along in 0..length {
            if (at..at + span).any(|p| ink(along, p)) {
                run += since + 1;
                since = 0;
                best = best.max(run);
            } else if run > 0 {
                since += 1;
                if since > gap {
                    (run, since) = (0, 0);
                }
            }
        }
        if best >= min_run.max(1) {
            ruled.push(at + span / 2);
        }
    }
    let mut rulings: Vec<(u32, u32)> = Vec::new();
    for at in ruled {
        match rulings.last_mut() {
            Some((_, end)) if at <= *end + span => *end = at,
            _ => rulings.push((at, at)),
        }
    }
    rulings.into_iter().map(|(a, b)| (a + b) / 2).collect()
}

/// The text of one cell, read inside its rulings, and its mean word confidence (0 to 1).
fn read_cell(
    engine: &mut Engine,
    image: &GrayImage,
    binary: &GrayImage,
    (x0, y0, x1, y1): (u32, u32, u32, u32),
    dpi: u32,
) -> Result<(String, f32), OcrError> {
    // clear of the rulings and what deskewing left of them
    let inset = (dpi / 40).max(3);
    let (x, y) = (x0 + inset, y0 + inset);
    let (w, h) = ((x1 - x0).saturating_sub(2 * inset), (y1 - y0).saturating_sub(2 * inset));
    if w < 8 || h < 8 {
        return Ok((String::new(), 0.0));
    }
    let grey = image::imageops::crop_imm(image, x, y, w, h).to_image();
    let layout = image::imageops::crop_imm(binary, x, y, w, h).to_image();
    if layout.pixels().all(|p| p[0] >= 128) {
        return Ok((String::new(), 0.0));
    }
    let words: Vec<Word> =
        engine.recognise_block(grey.as_raw(), layout.as_raw(), w, h, dpi)?.into_iter().filter(|w| w.conf >= 20.0).collect();
    if words.is_empty() {
        return Ok((String::new(), 0.0));
    }
    let conf = words.iter().map(|w| w.conf).sum::<f32>() / words.len() as f32 / 100.0;
    let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
    Ok((text, conf))
}

/// The field a column heading names.
fn heading(text: &str) -> Option<&'static str> {
    let folded = fold(text);
    let folded = folded.trim();
    HEADINGS
        .iter()
        .find(|(label, _)| if *label == "so" { folded == "so" || folded == "so tt" || folded == "stt" } else { folded.contains(label) })
        .map(|(_, f)| *f)
}

/// A cell's value as `field`'s rules read it; none for an empty cell.
fn value_of(field: &str, text: &str, conf: f32) -> Option<Cell> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let cell = |value: String, ok: bool| Some(Cell { value, confidence: if ok { conf } else { conf.min(0.3) } });
    match field {
        "entry_number" => {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            (!digits.is_empty()).then_some(())?;
            cell(digits, true)
        }
        "owner_id" => {
            // handwriting leaves gaps inside a number
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            (!digits.is_empty()).then_some(())?;
            let ok = CitizenId::parse(&digits).is_ok_and(|id| id.province_exists());
            cell(digits, ok)
        }
        "full_name" => {
            let name = text.trim_matches(|c: char| !c.is_alphabetic()).split_whitespace().collect::<Vec<_>>().join(" ");
            (!name.is_empty()).then_some(())?;
            cell(sohoa_protocol::classify::spelled_name(&name).0, true)
        }
        _ => match date_in_text(text) {
            Some(date) => cell(date, true),
            None => cell(text.to_owned(), false),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rulings_are_found_across_a_slant_and_text_is_not() {
        // two rulings, one slanted by two pixels over its length, and a line of "words"
        let mut page = GrayImage::from_pixel(200, 60, image::Luma([255]));
        for x in 10..190 {
            page.put_pixel(x, 10, image::Luma([0]));
            page.put_pixel(x, 40 + x / 100, image::Luma([0]));
        }
        for word in 0..8 {
            for x in (20 + word * 20)..(32 + word * 20) {
                for y in 24..30 {
                    page.put_pixel(x, y, image::Luma([0]));
                }
            }
        }
        let found = rulings(60, 200, |along, at| ink(&page, along, at), 90, 2);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].abs_diff(10) <= 2 && found[1].abs_diff(41) <= 2, "{found:?}");
    }

    #[test]
    fn headings_name_their_fields() {
        assert_eq!(heading("Số"), Some("entry_number"));
        assert_eq!(heading("Họ và tên"), Some("full_name"));
        assert_eq!(heading("Ngày đăng ký"), Some("registration_date"));
        assert_eq!(heading("Ngày sinh"), Some("date_of_birth"));
        assert_eq!(heading("Số định danh"), Some("owner_id"));
        assert_eq!(heading("Nơi sinh"), None);
    }

    #[test]
    fn values_follow_their_fields_rules() {
        assert_eq!(value_of("owner_id", "001 20 3004567", 0.9).map(|c| c.value), Some("001203004567".into()));
        assert!(value_of("owner_id", "12345", 0.9).is_some_and(|c| c.confidence <= 0.3));
        assert_eq!(value_of("date_of_birth", "03/09/1990", 0.9).map(|c| c.value), Some("1990-09-03".into()));
        assert_eq!(value_of("full_name", "- Trần Văn An.", 0.9).map(|c| c.value), Some("Trần Văn An".into()));
        assert!(value_of("entry_number", "  ", 0.9).is_none());
    }
}
