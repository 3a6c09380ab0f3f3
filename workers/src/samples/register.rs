//! Generated pages of civil-status register books (sổ hộ tịch): a printed heading and a
//! ruled table whose rows are entries written in by hand, one person each, with the values
//! every entry holds. An entry's place runs over two or three lines of its row; its owner's
//! id is written only in some entries, as in books kept before identity numbers.

use super::layout::{Canvas, INK};
use super::{citizen_id, load_font, name, Quality, Rng, SampleError, Typeface, PLACES};
use std::collections::BTreeMap;

/// Which book a page comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    Births,
    Deaths,
}

impl Book {
    pub const ALL: [Book; 2] = [Book::Births, Book::Deaths];

    fn title(self) -> &'static str {
        match self {
            Book::Births => "SỔ ĐĂNG KÝ KHAI SINH",
            Book::Deaths => "SỔ ĐĂNG KÝ KHAI TỬ",
        }
    }

    /// The column headings, and the field each column holds (none for the place).
    fn columns(self) -> [(&'static str, Option<&'static str>, f32); 6] {
        let (date, place, field) = match self {
            Book::Births => ("Ngày sinh", "Nơi sinh", "date_of_birth"),
            Book::Deaths => ("Ngày chết", "Nơi chết", "date_of_death"),
        };
        [
            ("Số", Some("entry_number"), 13.0),
            ("Họ và tên", Some("full_name"), 42.0),
            (date, Some(field), 24.0),
            (place, None, 41.0),
            ("Số định danh", Some("owner_id"), 34.0),
            ("Ngày đăng ký", Some("registration_date"), 26.0),
        ]
    }
}

/// A scanned register page and what each of its entries says, in order; fields as
/// extraction reports them (dates YYYY-MM-DD), `owner_id` only where it is written.
pub struct RegisterPage {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
    pub dpi: u32,
    pub entries: Vec<BTreeMap<String, String>>,
}

const LEFT_MM: f32 = 15.0;
const TOP_MM: f32 = 62.0;
const HEADING_PT: f32 = 9.0;
const HAND_PT: f32 = 11.0;

/// One register page of `book`: printed in `face`, filled in by the tuning part's slanted
/// hand or, for `held_out`, the held-out part's, scanned at `quality`. Deterministic for a
/// seed.
pub fn generate_register(book: Book, quality: Quality, seed: u64, face: Typeface, held_out: bool) -> Result<RegisterPage, SampleError> {
    let mut rng = Rng::new(seed);
    let hand = if held_out { super::HELD_OUT_HAND } else { super::TUNING_HAND };
    let (regular, bold, hand) = (load_font(face.regular)?, load_font(face.bold)?, load_font(hand)?);
    let dpi = super::scan_dpi(quality, &mut rng);
    let mut page = Canvas::new(dpi);
    let centre = page.mm(105.0);
    page.centred(&bold, 12.0, centre, page.mm(22.0), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    page.centred(&bold, 11.0, centre, page.mm(28.0), "Độc lập - Tự do - Hạnh phúc");
    page.centred(&bold, 15.0, centre, page.mm(42.0), book.title());
    let volume = format!("Quyển số: {:02}/{}", 1 + rng.below(6), 1995 + rng.below(25));
    page.centred(&regular, 11.0, centre, page.mm(50.0), &volume);

    let columns = book.columns();
    let mut edges = vec![page.mm(LEFT_MM)];
    for (_, _, width) in &columns {
        edges.push(edges[edges.len() - 1] + page.mm(*width));
    }
    let rule = page.mm(0.3);
    let (left, right) = (edges[0], edges[edges.len() - 1]);
    let mut y = page.mm(TOP_MM);
    let mut rules = vec![y];
    // the heading row: each heading wrapped to its column, bold
    let heading_lead = page.leading(HEADING_PT);
    let headings: Vec<Vec<String>> = columns
        .iter()
        .zip(edges.windows(2))
        .map(|((heading, _, _), x)| page.wrap(&bold, HEADING_PT, heading, x[1] - x[0] - page.mm(2.0)))
        .collect();
    let heading_lines = headings.iter().map(Vec::len).max().unwrap_or(1) as f32;
    for (lines, x) in headings.iter().zip(edges.windows(2)) {
        for (i, line) in lines.iter().enumerate() {
            page.centred(&bold, HEADING_PT, (x[0] + x[1]) / 2.0, y + page.mm(1.5) + heading_lead * (i as f32 + 0.8), line);
        }
    }
    y += heading_lead * heading_lines + page.mm(3.0);
    rules.push(y);

    let count = 4 + rng.below(4) as usize;
    let hand_lead = page.leading(HAND_PT);
    let mut entries = Vec::with_capacity(count);
    let first_number = 1 + rng.below(400);
    for n in 0..count {
        let owner = citizen_id(&mut rng);
        let year = sohoa_protocol::domain::CitizenId::parse(&owner).ok().and_then(|id| id.birth_year()).unwrap_or(1970);
        let (d, m) = (1 + rng.below(28), 1 + rng.below(12));
        let event_year = match book {
            Book::Births => u64::from(year),
            Book::Deaths => u64::from(year) + 40 + rng.below(30),
        };
        let (rd, rm) = (1 + rng.below(28), 1 + rng.below(12));
        let registered = event_year.min(2024) + rng.below(2);
        let mut fields = BTreeMap::new();
        let number = (first_number + n as u64).to_string();
        let written_id = rng.below(10) < 7;
        let values: [(Option<&str>, String, String); 6] = [
            (columns[0].1, number.clone(), number),
            (columns[1].1, name(&mut rng), String::new()),
            (columns[2].1, format!("{d:02}/{m:02}/{event_year}"), format!("{event_year}-{m:02}-{d:02}")),
            (None, rng.pick(&PLACES).to_string(), String::new()),
            (columns[4].1, if written_id { owner.clone() } else { String::new() }, String::new()),
            (columns[5].1, format!("{rd:02}/{rm:02}/{registered}"), format!("{registered}-{rm:02}-{rd:02}")),
        ];
        let cells: Vec<Vec<String>> = values
            .iter()
            .zip(edges.windows(2))
            .map(|((_, printed, _), x)| page.wrap(&hand, HAND_PT, printed, x[1] - x[0] - page.mm(2.5)))
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1) as f32;
        for (lines, x) in cells.iter().zip(edges.windows(2)) {
            for (i, line) in lines.iter().enumerate() {
                let baseline = y + page.mm(2.0) + hand_lead * (i as f32 + 0.8);
                page.text(&hand, HAND_PT, x[0] + page.mm(1.2), baseline, line, INK, Some(&mut rng));
            }
        }
        for (field, printed, iso) in values {
            if let Some(field) = field.filter(|_| !printed.is_empty()) {
                let value = if iso.is_empty() { printed } else { iso };
                fields.insert(field.to_owned(), value);
            }
        }
        entries.push(fields);
        y += hand_lead * lines + page.mm(4.0);
        rules.push(y);
    }
    for &at in &rules {
        page.stroke((left, at), (right, at), rule, INK);
    }
    for &x in &edges {
        page.stroke((x, rules[0]), (x, y), rule, INK);
    }
    let gray = super::layout::grey(&page.img);
    let (bytes, extension, _) = super::degrade(gray, quality, &mut rng, false, dpi)?;
    Ok(RegisterPage { bytes, extension, dpi, entries })
}
