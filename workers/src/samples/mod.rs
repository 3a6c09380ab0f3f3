//! Generated scans with ground truth: Vietnamese documents of the catalog's types rendered
//! with a TrueType font, then degraded like real scans (skew, blur, speckle, uneven light,
//! JPEG artefacts, 150-300 dpi). Deterministic for a seed. Out-of-scope pages (news,
//! advertising, letters, invoices, menus, blank paper) go through the same rendering and
//! degradation. Faces and layouts are split into a tuning part and a held-out part
//! (`Layout::TUNING`, `Layout::HELD_OUT`, the faces below).

mod content;
mod layout;
mod register;
mod sparse;
mod unrelated;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{GrayImage, ImageFormat, Luma};
pub use layout::Layout;
pub use register::{generate_register, Book, RegisterPage};
use sohoa_protocol::policy::Catalog;
pub use sparse::Sparse;
use std::collections::BTreeMap;
use std::io::Cursor;
pub use unrelated::Unrelated;

/// A regular and a bold TrueType file that print one typeface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typeface {
    pub name: &'static str,
    regular: &'static str,
    bold: &'static str,
}

const fn face(name: &'static str, regular: &'static str, bold: &'static str) -> Typeface {
    Typeface { name, regular, bold }
}

/// The faces `generate` draws from, which the pipeline was tuned on.
pub const DEFAULT_FACES: [Typeface; 2] = [
    face("dejavu-sans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    face("noto-serif", "/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSerif-Bold.ttf"),
];

/// Other faces, for tuning what the default faces do not show: DejaVu Serif, Noto Sans, two
/// typewriter faces (one with a dotted zero) and a condensed face.
pub const TUNING_FACES: [Typeface; 5] = [
    face("dejavu-serif", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"),
    face("noto-sans", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    face("free-mono", "/usr/share/fonts/truetype/freefont/FreeMono.ttf", "/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf"),
    face(
        "jetbrains-mono",
        "/usr/share/fonts/truetype/jetbrains-mono/JetBrainsMono-Regular.ttf",
        "/usr/share/fonts/truetype/jetbrains-mono/JetBrainsMono-Bold.ttf",
    ),
    face(
        "dejavu-sans-condensed",
        "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    ),
];

/// The slanted faces fill-ins are written in: two for the tuning part (`Dotted`, `Filled`),
/// one for the held-out part.
const TUNING_HAND: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf";
const TUNING_FILL_HAND: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Italic.ttf";
const HELD_OUT_HAND: &str = "/usr/share/fonts/truetype/freefont/FreeSerifItalic.ttf";

/// Faces nothing is tuned on, for held-out figures: Liberation 2 (metric twins of Times New
/// Roman, which Decree 30/2020 prescribes, Arial and Courier), GNU FreeFont and a condensed
/// face. Installed by scripts/install-deps.sh.
pub const HELD_OUT_FACES: [Typeface; 6] = [
    face(
        "liberation-serif",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    ),
    face(
        "liberation-sans",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",
    ),
    face(
        "liberation-mono",
        "/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
        "/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf",
    ),
    face("free-serif", "/usr/share/fonts/truetype/freefont/FreeSerif.ttf", "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf"),
    face("free-sans", "/usr/share/fonts/truetype/freefont/FreeSans.ttf", "/usr/share/fonts/truetype/freefont/FreeSansBold.ttf"),
    face(
        "dejavu-serif-condensed",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed-Bold.ttf",
    ),
];

/// How badly a page was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// 300 dpi, straight, sharp, lossless.
    Clean,
    /// 200-300 dpi, up to 1.5° skew, slight blur, JPEG 75, mild light falloff.
    Ordinary,
    /// 150-200 dpi, up to 4.5° skew, blur, speckle, uneven light, JPEG 30.
    Poor,
}

impl Quality {
    pub fn parse(s: &str) -> Option<Quality> {
        match s {
            "clean" => Some(Quality::Clean),
            "ordinary" => Some(Quality::Ordinary),
            "poor" => Some(Quality::Poor),
            _ => None,
        }
    }
}

/// One generated scan and what is printed on it.
pub struct Sample {
    /// The catalog type, or `unknown` for an out-of-scope page.
    pub doc_type: String,
    /// Printed field values as extraction reports them (dates as YYYY-MM-DD): `owner_id`,
    /// `full_name`, `date_of_birth`, `document_number`, `issue_date`, `enterprise_code`.
    pub fields: BTreeMap<String, String>,
    pub truth: String,
    pub dpi: u32,
    pub skew: f32,
    /// PNG for clean pages, JPEG otherwise.
    pub bytes: Vec<u8>,
    pub extension: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot read font {path}: {message}")]
    Font { path: String, message: String },
    #[error("cannot encode the page: {0}")]
    Encode(#[from] image::ImageError),
}

/// SplitMix64: small, fast and the same on every machine.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: [&str; 10] = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"];
const MIDDLE: [&str; 8] = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc"];
const GIVEN: [&str; 12] = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Quyết"];
const PLACES: [&str; 6] = [
    "phường Dịch Vọng, quận Cầu Giấy, Hà Nội",
    "xã Tân Lập, huyện Đan Phượng, Hà Nội",
    "phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
    "phường Hải Châu 1, quận Hải Châu, Đà Nẵng",
    "thị trấn Phong Điền, huyện Phong Điền, Thừa Thiên Huế",
    "phường Lê Lợi, thành phố Vinh, Nghệ An",
];
const FILLER: [&str; 6] = [
    "Căn cứ Luật Hộ tịch ngày 20 tháng 11 năm 2014 và các văn bản hướng dẫn thi hành.",
    "Thông tin trên đây đã được đối chiếu với cơ sở dữ liệu quốc gia về dân cư.",
    "Người yêu cầu chịu trách nhiệm trước pháp luật về nội dung đã khai.",
    "Giấy tờ này được cấp theo đề nghị của người có yêu cầu tại Bộ phận Một cửa.",
    "Mọi sửa chữa, tẩy xóa trên giấy tờ này đều không có giá trị pháp lý.",
    "Hồ sơ được tiếp nhận và giải quyết theo đúng quy trình thủ tục hành chính.",
];

/// A valid 12-digit personal identity number (province, century and sex, year, sequence).
pub fn citizen_id(rng: &mut Rng) -> String {
    let province = [1u64, 2, 4, 8, 22, 31, 33, 38, 46, 48, 79, 92][rng.below(12) as usize];
    let year = 1950 + rng.below(60);
    let century_sex = if year >= 2000 { 2 } else { 0 } + rng.below(2);
    format!("{province:03}{century_sex}{:02}{:06}", year % 100, rng.below(1_000_000))
}

fn name(rng: &mut Rng) -> String {
    format!("{} {} {}", rng.pick(&SURNAMES), rng.pick(&MIDDLE), rng.pick(&GIVEN))
}

/// A 10-digit enterprise code: province prefix and a sequence.
fn enterprise_code(rng: &mut Rng) -> String {
    format!("{:02}{:08}", [1u64, 2, 3, 4, 31][rng.below(5) as usize], rng.below(100_000_000))
}

/// A date as printed (DD/MM/YYYY) and as extraction reports it (YYYY-MM-DD).
fn date(rng: &mut Rng, from_year: u64) -> (String, String) {
    let (d, m, y) = (1 + rng.below(28), 1 + rng.below(12), from_year + rng.below(30));
    (format!("{d:02}/{m:02}/{y}"), format!("{y}-{m:02}-{d:02}"))
}

/// The owner's date of birth, in the year their id encodes.
fn birth_date(rng: &mut Rng, owner: &str) -> (String, String) {
    let (d, m) = (1 + rng.below(28), 1 + rng.below(12));
    // drawn and unused so that a seed's other values stay what they were
    let _ = rng.below(30);
    let y = sohoa_protocol::domain::CitizenId::parse(owner).ok().and_then(|id| id.birth_year()).unwrap_or(1970);
    (format!("{d:02}/{m:02}/{y}"), format!("{y}-{m:02}-{d:02}"))
}

/// How a printed line is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Bold and centred: the national header, a masthead.
    Header,
    /// Bold, centred and larger, with space above.
    Title,
    /// Set left.
    Body,
}

/// One printed line.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub style: Style,
}

impl Line {
    fn header(text: &str) -> Line {
        Line { text: text.to_owned(), style: Style::Header }
    }
    fn title(text: &str) -> Line {
        Line { text: text.to_owned(), style: Style::Title }
    }
    fn body(text: &str) -> Line {
        Line { text: text.to_owned(), style: Style::Body }
    }
}

/// The printed lines of a document of `doc_type` (title, labelled fields, body text),
/// with the values of the fields it prints.
pub fn document_lines(catalog: &Catalog, doc_type: &str, rng: &mut Rng) -> (Vec<Line>, BTreeMap<String, String>) {
    let spec = catalog.doc_types.values().find(|d| d.id.as_str() == doc_type);
    let title = spec.and_then(|d| d.titles.first().cloned()).unwrap_or_else(|| "GIẤY XÁC NHẬN".into());
    let keywords: Vec<String> = spec.map(|d| d.keywords.clone()).unwrap_or_default();
    let mut fields = BTreeMap::new();
    let owner = citizen_id(rng);
    let full_name = name(rng);
    let number = format!("{}/{}", 10 + rng.below(990), 2015 + rng.below(11));
    let (born, born_iso) = birth_date(rng, &owner);
    let mut lines = vec![
        Line::header("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        Line::header("Độc lập - Tự do - Hạnh phúc"),
        Line::body(&format!("Số: {number}")),
        Line::title(&title),
        Line::body(&format!("Họ và tên: {full_name}")),
        Line::body(&format!("Số định danh cá nhân: {owner}")),
        Line::body(&format!("Ngày, tháng, năm sinh: {born}")),
    ];
    if spec.is_some_and(|d| d.fields.contains(&sohoa_protocol::policy::Field::EnterpriseCode)) {
        let code = enterprise_code(rng);
        lines.insert(6, Line::body(&format!("Mã số doanh nghiệp: {code}")));
        fields.insert("enterprise_code".to_owned(), code);
    }
    for keyword in keywords.iter().filter(|k| k.chars().all(|c| !c.is_ascii_digit())).take(4) {
        let mut label: Vec<char> = keyword.chars().collect();
        if let Some(first) = label.first_mut() {
            *first = first.to_uppercase().next().unwrap_or(*first);
        }
        let value = match rng.below(3) {
            0 => rng.pick(&PLACES).to_string(),
            1 => date(rng, 1990).0,
            _ => name(rng),
        };
        lines.push(Line::body(&format!("{}: {value}", label.into_iter().collect::<String>())));
    }
    for _ in 0..2 {
        lines.push(Line::body(rng.pick::<&str>(&FILLER)));
    }
    let (d, m, y) = (1 + rng.below(28), 1 + rng.below(12), 2020 + rng.below(6));
    lines.push(Line::body(&format!("Hà Nội, ngày {d} tháng {m} năm {y}")));
    for (name, value) in [
        ("owner_id", owner),
        ("full_name", full_name),
        ("date_of_birth", born_iso),
        ("document_number", number),
        ("issue_date", format!("{y}-{m:02}-{d:02}")),
    ] {
        fields.insert(name.to_owned(), value);
    }
    (lines, fields)
}

fn load_font(path: &str) -> Result<FontVec, SampleError> {
    let bytes = std::fs::read(path).map_err(|e| SampleError::Font { path: path.into(), message: e.to_string() })?;
    FontVec::try_from_vec(bytes).map_err(|e| SampleError::Font { path: path.into(), message: e.to_string() })
}

/// Renders and degrades one document.
pub fn generate(catalog: &Catalog, doc_type: &str, quality: Quality, seed: u64) -> Result<Sample, SampleError> {
    generate_in(catalog, doc_type, quality, seed, None)
}

/// Terms a document's continuation pages carry, numbered as articles.
const ARTICLES: [&str; 6] = [
    "Điều 1. Người được cấp có trách nhiệm xuất trình giấy tờ này khi cơ quan có thẩm quyền yêu cầu.",
    "Điều 2. Thông tin về cá nhân được ghi theo cơ sở dữ liệu quốc gia về dân cư tại thời điểm cấp.",
    "Điều 3. Trường hợp có thay đổi, người được cấp phải đề nghị điều chỉnh trong thời hạn quy định.",
    "Điều 4. Văn bản này có hiệu lực kể từ ngày ký và được lưu tại cơ quan cấp một bản.",
    "Điều 5. Các cơ quan, tổ chức và cá nhân có liên quan chịu trách nhiệm thi hành văn bản này.",
    "Điều 6. Bản sao điện tử có giá trị sử dụng thay cho bản chính trong giao dịch.",
];

/// A document of `doc_type` printed over `pages` pages (at least one) in `face`, each page
/// scanned apart at `quality`: the first carries the header, the title and the fields, the
/// others numbered terms, and the last the place and date of issue. Every page's `fields`
/// are the whole document's; `truth` is each page's own text.
pub fn generate_pages(
    catalog: &Catalog,
    doc_type: &str,
    quality: Quality,
    seed: u64,
    face: Option<Typeface>,
    pages: usize,
) -> Result<Vec<Sample>, SampleError> {
    let mut rng = Rng::new(seed);
    let (mut lines, fields) = document_lines(catalog, doc_type, &mut rng);
    let issued = lines.pop().into_iter().collect::<Vec<_>>();
    let mut printed: Vec<Vec<Line>> = vec![lines];
    for page in 2..=pages.max(1) {
        let mut more = vec![Line::body(&format!("Trang {page}/{pages}"))];
        for _ in 0..3 {
            more.push(Line::body(rng.pick::<&str>(&ARTICLES)));
        }
        printed.push(more);
    }
    printed.last_mut().into_iter().for_each(|last| last.extend(issued.iter().cloned()));
    printed.iter().map(|lines| scan(doc_type, fields.clone(), lines, quality, &mut rng, false, face)).collect()
}

/// `generate`, printed in `face` rather than one of the default faces.
pub fn generate_in(catalog: &Catalog, doc_type: &str, quality: Quality, seed: u64, face: Option<Typeface>) -> Result<Sample, SampleError> {
    let mut rng = Rng::new(seed);
    let (lines, fields) = document_lines(catalog, doc_type, &mut rng);
    scan(doc_type, fields, &lines, quality, &mut rng, false, face)
}

/// Renders and degrades one document printed in `face` and set in `layout`; `Plain` is
/// `generate_in`'s page. The layout's part (tuning or held-out) also chooses the titles of
/// application forms and the labels of ids.
pub fn generate_with(
    catalog: &Catalog,
    doc_type: &str,
    quality: Quality,
    seed: u64,
    face: Typeface,
    layout: Layout,
) -> Result<Sample, SampleError> {
    let hand = match layout {
        Layout::Filled => TUNING_FILL_HAND,
        _ if layout.held_out() => HELD_OUT_HAND,
        _ => TUNING_HAND,
    };
    generate_filled_by(catalog, doc_type, quality, seed, face, layout, hand)
}

/// `generate_with`, the fill-ins written in the face at `hand` (a font file) rather than the
/// layout's own: for trying a reading on a hand neither part is measured on.
pub fn generate_filled_by(
    catalog: &Catalog,
    doc_type: &str,
    quality: Quality,
    seed: u64,
    face: Typeface,
    layout: Layout,
    hand: &str,
) -> Result<Sample, SampleError> {
    if layout == Layout::Plain {
        return generate_in(catalog, doc_type, quality, seed, Some(face));
    }
    let mut rng = Rng::new(seed);
    let (content, fields) = content::content(catalog, doc_type, layout.held_out(), &mut rng);
    let fonts = layout::Fonts { regular: load_font(face.regular)?, bold: load_font(face.bold)?, hand: load_font(hand)? };
    let dpi = scan_dpi(quality, &mut rng);
    let (canvas, truth) = layout::set(layout, &content, &fonts, dpi, &mut rng);
    let marked = |mut page: GrayImage, rng: &mut Rng| {
        match layout {
            Layout::Table => layout::punch_holes(&mut page, dpi, rng),
            Layout::TwoColumn => {
                layout::folds(&mut page, dpi, rng);
                layout::dark_border(&mut page, dpi, rng);
            }
            Layout::Photocopy => {
                layout::photocopy(&mut page, rng);
                layout::punch_holes(&mut page, dpi, rng);
                layout::dark_border(&mut page, dpi, rng);
            }
            Layout::Plain | Layout::Leaders | Layout::Dotted | Layout::Filled => {}
        }
        page
    };
    let (bytes, extension, skew) = if canvas.coloured && layout != Layout::Photocopy {
        // each channel marked and soiled alike: the same draws from copies of the generator
        let mut channels = Vec::new();
        let mut after = rng.clone();
        let mut skew = 0.0;
        for c in 0..3 {
            let mut copy = rng.clone();
            let channel = GrayImage::from_fn(canvas.img.width(), canvas.img.height(), |x, y| Luma([canvas.img.get_pixel(x, y)[c]]));
            let channel = marked(channel, &mut copy);
            let (soiled, s) = soil(channel, quality, &mut copy, false);
            channels.push(soiled);
            skew = s;
            after = copy;
        }
        rng = after;
        let (w, h) = channels[0].dimensions();
        let rgb = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([0, 1, 2].map(|c| channels[c].get_pixel(x, y)[0])));
        let (bytes, extension) = encode(&image::DynamicImage::ImageRgb8(rgb), quality, dpi)?;
        (bytes, extension, skew)
    } else {
        let page = marked(layout::grey(&canvas.img), &mut rng);
        let (page, skew) = soil(page, quality, &mut rng, false);
        let (bytes, extension) = encode(&image::DynamicImage::ImageLuma8(page), quality, dpi)?;
        (bytes, extension, skew)
    };
    let _ = rng;
    Ok(Sample { doc_type: doc_type.to_owned(), fields, truth: truth.join("\n"), dpi, skew, bytes, extension })
}

/// Renders and degrades one out-of-scope page, labelled `unknown`.
pub fn generate_unrelated(kind: Unrelated, quality: Quality, seed: u64) -> Result<Sample, SampleError> {
    generate_unrelated_in(kind, quality, seed, None)
}

/// `generate_unrelated`, printed in `face` rather than one of the default faces.
pub fn generate_unrelated_in(kind: Unrelated, quality: Quality, seed: u64, face: Option<Typeface>) -> Result<Sample, SampleError> {
    let mut rng = Rng::new(seed);
    let lines = unrelated::lines(kind, &mut rng);
    scan(sohoa_protocol::classify::UNKNOWN, BTreeMap::new(), &lines, quality, &mut rng, kind == Unrelated::Blank, face)
}

/// Renders and degrades one page with little or no text (`Sparse`), labelled `unknown`.
pub fn generate_sparse(kind: Sparse, quality: Quality, seed: u64) -> Result<Sample, SampleError> {
    let mut rng = Rng::new(seed);
    let face = DEFAULT_FACES[rng.below(2) as usize];
    let (regular, bold) = (load_font(face.regular)?, load_font(face.bold)?);
    let dpi = scan_dpi(quality, &mut rng);
    let lines = sparse::lines(kind);
    let mut page = render(&lines, &regular, &bold, dpi);
    sparse::draw(kind, &mut page, &mut rng, dpi);
    let (bytes, extension, skew) = degrade(page, quality, &mut rng, false, dpi)?;
    let truth = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
    Ok(Sample { doc_type: sohoa_protocol::classify::UNKNOWN.to_owned(), fields: BTreeMap::new(), truth, dpi, skew, bytes, extension })
}

/// Prints `lines` on a page and scans it at `quality`; `dusty` adds the scanner's dust
/// and a shadowed edge that stand out on an otherwise empty page; `face`, when given,
/// replaces the default faces.
fn scan(
    doc_type: &str,
    fields: BTreeMap<String, String>,
    lines: &[Line],
    quality: Quality,
    rng: &mut Rng,
    dusty: bool,
    face: Option<Typeface>,
) -> Result<Sample, SampleError> {
    // drawn whatever `face` says, so that a seed's other values stay what they were
    let default = DEFAULT_FACES[rng.below(2) as usize];
    let face = face.unwrap_or(default);
    let (regular, bold) = (load_font(face.regular)?, load_font(face.bold)?);
    let dpi = scan_dpi(quality, rng);
    let page = render(lines, &regular, &bold, dpi);
    let (bytes, extension, skew) = degrade(page, quality, rng, dusty, dpi)?;
    let truth = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
    Ok(Sample { doc_type: doc_type.to_owned(), fields, truth, dpi, skew, bytes, extension })
}

fn scan_dpi(quality: Quality, rng: &mut Rng) -> u32 {
    match quality {
        Quality::Clean => 300,
        Quality::Ordinary => 200 + 50 * rng.below(3) as u32,
        Quality::Poor => 150 + 25 * rng.below(3) as u32,
    }
}

/// Skews, soils and encodes a printed page as a scanner at `quality` would: the file, its
/// extension and the skew.
fn degrade(page: GrayImage, quality: Quality, rng: &mut Rng, dusty: bool, dpi: u32) -> Result<(Vec<u8>, &'static str, f32), SampleError> {
    let (page, skew) = soil(page, quality, rng, dusty);
    let (bytes, extension) = encode(&image::DynamicImage::ImageLuma8(page), quality, dpi)?;
    Ok((bytes, extension, skew))
}

/// Skews and soils a printed page as a scanner at `quality` would; the page and the skew.
fn soil(mut page: GrayImage, quality: Quality, rng: &mut Rng, dusty: bool) -> (GrayImage, f32) {
    let skew = match quality {
        Quality::Clean => 0.0,
        Quality::Ordinary => rng.range(-1.5, 1.5),
        Quality::Poor => rng.range(-4.5, 4.5),
    };
    if skew != 0.0 {
        page = crate::ocr::rotate(&page, skew);
    }
    if dusty {
        speckle(&mut page, rng, 0.0005);
        shadow(&mut page, rng);
    }
    if quality == Quality::Poor {
        light(&mut page, rng, 0.45);
        page = image::imageops::blur(&page, rng.range(0.8, 1.2));
        speckle(&mut page, rng, 0.002);
    } else if quality == Quality::Ordinary {
        light(&mut page, rng, 0.15);
        page = image::imageops::blur(&page, 0.6);
    }
    (page, skew)
}

/// The page as the scanner writes it: PNG for clean scans, JPEG (75, or 30 for poor ones)
/// at `dpi` otherwise.
fn encode(page: &image::DynamicImage, quality: Quality, dpi: u32) -> Result<(Vec<u8>, &'static str), SampleError> {
    Ok(match quality {
        Quality::Clean => {
            let mut out = Cursor::new(Vec::new());
            page.write_to(&mut out, ImageFormat::Png)?;
            (out.into_inner(), "png")
        }
        _ => {
            let mut out = Vec::new();
            let q = if quality == Quality::Poor { 30 } else { 75 };
            let mut encoder = JpegEncoder::new_with_quality(&mut out, q);
            encoder.set_pixel_density(PixelDensity::dpi(dpi as u16));
            encoder.encode_image(page)?;
            (out, "jpg")
        }
    })
}

/// An A4 page at `dpi` with the lines set left (body) or centred (bold header and title).
fn render(lines: &[Line], regular: &FontVec, bold: &FontVec, dpi: u32) -> GrayImage {
    let px = |mm: f32| (mm / 25.4 * dpi as f32).round();
    let (width, height) = (px(210.0) as u32, px(297.0) as u32);
    let mut page = GrayImage::from_pixel(width, height, Luma([250]));
    let mut y = px(25.0);
    let left = px(25.0);
    let max_width = width as f32 - 2.0 * left;
    for Line { text, style } in lines {
        let title = *style == Style::Title;
        let strong = *style != Style::Body;
        let points = if title { 16.0 } else { 12.5 };
        let scale = PxScale::from(points / 72.0 * dpi as f32);
        let font = if strong { bold } else { regular };
        let scaled = font.as_scaled(scale);
        let line_width: f32 = text.chars().map(|c| scaled.h_advance(scaled.glyph_id(c))).sum();
        let fits = (max_width / line_width.max(1.0)).min(1.0);
        let mut x = if strong { (width as f32 - line_width * fits) / 2.0 } else { left };
        y += scaled.ascent() * if title { 2.0 } else { 1.0 };
        for ch in text.chars() {
            let glyph = scaled.glyph_id(ch).with_scale_and_position(scale, ab_glyph::point(x, y));
            let advance = scaled.h_advance(scaled.glyph_id(ch)) * fits;
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let (px_x, px_y) = (bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy));
                    if px_x >= 0 && px_y >= 0 && (px_x as u32) < width && (px_y as u32) < height {
                        let p = page.get_pixel_mut(px_x as u32, px_y as u32);
                        p[0] = (f32::from(p[0]) * (1.0 - coverage.min(1.0)) + 15.0 * coverage.min(1.0)) as u8;
                    }
                });
            }
            x += advance;
        }
        y += -scaled.descent() + scaled.line_gap() + scaled.height() * 0.45;
    }
    page
}

/// Light falling off towards one corner by up to `depth`.
fn light(page: &mut GrayImage, rng: &mut Rng, depth: f32) {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let (cx, cy) = (rng.range(0.0, w), rng.range(0.0, h));
    let reach = (w * w + h * h).sqrt();
    for (x, y, p) in page.enumerate_pixels_mut() {
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() / reach;
        p[0] = (f32::from(p[0]) * (1.0 - depth * d)) as u8;
    }
}

/// The shadow of the scanner's lid along one edge of the page.
fn shadow(page: &mut GrayImage, rng: &mut Rng) {
    let (w, h) = page.dimensions();
    let band = (w as f32 * rng.range(0.01, 0.03)) as u32;
    let left = rng.below(2) == 0;
    for y in 0..h {
        for i in 0..band.min(w) {
            let x = if left { i } else { w - 1 - i };
            let p = page.get_pixel_mut(x, y);
            p[0] = (f32::from(p[0]) * (0.35 + 0.65 * i as f32 / band as f32)) as u8;
        }
    }
}

/// Dark dust: `density` of the pixels, in small clusters.
fn speckle(page: &mut GrayImage, rng: &mut Rng, density: f32) {
    let count = (page.width() as f32 * page.height() as f32 * density / 3.0) as u64;
    for _ in 0..count {
        let (x, y) = (rng.below(u64::from(page.width() - 1)) as u32, rng.below(u64::from(page.height() - 1)) as u32);
        let shade = Luma([rng.below(90) as u8]);
        page.put_pixel(x, y, shade);
        if rng.below(2) == 0 {
            page.put_pixel(x + 1, y, shade);
        }
    }
}

/// Character error rate: edit distance over the truth's length, with whitespace runs
/// collapsed and both sides in NFC.
pub fn cer(truth: &str, recognised: &str) -> f64 {
    use unicode_normalization::UnicodeNormalization;
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").nfc().collect::<Vec<char>>();
    let (a, b) = (norm(truth), norm(recognised));
    if a.is_empty() {
        return if b.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cer_counts_edits_over_truth() {
        assert_eq!(cer("Hà Nội", "Hà Nội"), 0.0);
        assert_eq!(cer("Hà  Nội\n", "Hà Nội"), 0.0);
        assert!((cer("abcd", "abed") - 0.25).abs() < 1e-9);
        assert_eq!(cer("", ""), 0.0);
    }

    #[test]
    fn each_layout_is_drawn_with_its_part_s_titles_and_marks() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let catalog = sohoa_protocol::policy::load(&dir).unwrap();
        for layout in [Layout::Table, Layout::Dotted, Layout::Filled, Layout::Leaders, Layout::TwoColumn, Layout::Photocopy] {
            let face = if layout.held_out() { HELD_OUT_FACES[0] } else { TUNING_FACES[0] };
            let form = generate_with(&catalog, "application_form", Quality::Clean, 5, face, layout).unwrap();
            let subject = &form.fields["subject"];
            let title = form.truth.lines().find(|l| l.ends_with(subject.as_str()) || l.contains("KHAI") || l.contains("ĐỀ NGHỊ"));
            assert!(title.is_some(), "{layout:?}: {}", form.truth);
            assert!(form.truth.contains(&form.fields["owner_id"]), "{layout:?}");
            // the held-out part's form titles are not the tuning part's
            let held_out = ["KẾT HÔN", "TRÍCH LỤC HỘ TỊCH", "LÝ LỊCH TƯ PHÁP", "ĐĂNG KÝ DOANH NGHIỆP"];
            assert_eq!(held_out.iter().any(|h| subject.contains(h)), layout.held_out(), "{layout:?}: {subject}");
            // an issued document is sealed in red, except on a photocopy
            let issued = generate_with(&catalog, "birth_certificate", Quality::Clean, 5, face, layout).unwrap();
            let page = image::load_from_memory(&issued.bytes).unwrap();
            let red = page.to_rgb8().pixels().filter(|p| p[0] > 150 && p[1] < 110 && p[2] < 110).count();
            assert_eq!(red > 1000, layout != Layout::Photocopy, "{layout:?}: {red} red pixels");
            // a dark border or punched holes darken the page's left edge
            let gray = page.to_luma8();
            let left_dark = (0..gray.height()).filter(|&y| gray.get_pixel(gray.width() / 20, y)[0] < 120).count();
            let marked = matches!(layout, Layout::Table | Layout::Photocopy);
            assert!(!marked || left_dark > 0, "{layout:?}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        assert_eq!(citizen_id(&mut a), citizen_id(&mut b));
        let id = citizen_id(&mut Rng::new(7));
        assert_eq!(id.len(), 12);
        let parsed = sohoa_protocol::domain::CitizenId::parse(&id).unwrap();
        assert!(parsed.province_exists(), "{id}");
        let (_, born) = birth_date(&mut Rng::new(7), &id);
        assert!(born.starts_with(&parsed.birth_year().unwrap().to_string()), "{id} {born}");
    }
}
