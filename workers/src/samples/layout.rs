//! Pages set as offices set them, beyond the plain flow of lines: a ruled table of fields,
//! dotted leaders filled in by hand, a two-column header and fields, a photocopy; with a
//! red round seal stamped over the signer's title, a signature scrawl, punched holes,
//! folds, dark borders and shadows. Each layout belongs to the tuning part or the held-out
//! part of the quality test (docs/decisions.md, "Held-out pages").

use super::Rng;
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use image::{GrayImage, Luma, Rgb, RgbImage};

/// How a document's content is set on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Centred header and title, `Label: value` lines, no marks: the generator's first layout.
    Plain,
    /// Fields in a ruled two-column table, a signature and a red seal over the signer's
    /// title, two punched holes.
    Table,
    /// Fields on dotted leaders filled in by hand (a slanted face, jittered, blue ink),
    /// a signature and a red seal.
    Leaders,
    /// The Decree 30 header (agency left, national header right), fields in two columns,
    /// a dark border with a shadow, two folds.
    TwoColumn,
    /// `Label: value` lines with a seal and a signature, photocopied: grey paper, toner
    /// noise and streaks, a dark lid border, punched holes.
    Photocopy,
    /// A typed form filled in by hand: numbered labels followed by leaders typed as full
    /// stops in the body face, the values written over them in black (an upright-leaning
    /// face, jittered); a signature and a seal. The tuning part's leader layout.
    Dotted,
    /// A printed form filled in by hand: labels followed by drawn leaders of small square
    /// specks, the values written over them in a serif italic in violet-black ink (jittered);
    /// a signature and a seal. The tuning part's second leader layout, unlike the held-out
    /// `Leaders` in its specks, pitch, hand and ink.
    Filled,
}

impl Layout {
    /// Layouts the classifier and the pipeline may be tuned on.
    pub const TUNING: [Layout; 4] = [Layout::Plain, Layout::Table, Layout::Dotted, Layout::Filled];
    /// Layouts nothing is tuned on.
    pub const HELD_OUT: [Layout; 3] = [Layout::Leaders, Layout::TwoColumn, Layout::Photocopy];
    pub const ALL: [Layout; 7] =
        [Layout::Plain, Layout::Table, Layout::Leaders, Layout::TwoColumn, Layout::Photocopy, Layout::Dotted, Layout::Filled];

    pub fn name(self) -> &'static str {
        match self {
            Layout::Plain => "plain",
            Layout::Table => "table",
            Layout::Leaders => "leaders",
            Layout::TwoColumn => "two-column",
            Layout::Photocopy => "photocopy",
            Layout::Dotted => "dotted",
            Layout::Filled => "filled",
        }
    }

    pub fn parse(s: &str) -> Option<Layout> {
        Layout::ALL.into_iter().find(|l| l.name() == s)
    }

    pub fn held_out(self) -> bool {
        Layout::HELD_OUT.contains(&self)
    }
}

/// What a document says, before it is set.
#[derive(Debug, Clone, Default)]
pub struct Content {
    /// The issuing agency, two lines (the second bold).
    pub agency: [String; 2],
    /// `Số: ...`, empty on an application form.
    pub number: String,
    pub title: String,
    /// `Kính gửi: ...` on an application form.
    pub recipient: Option<String>,
    /// Labels and values, in order.
    pub fields: Vec<(String, String)>,
    pub body: Vec<String>,
    pub place_date: String,
    /// The signer's title ("NGƯỜI YÊU CẦU", "CHỦ TỊCH") and name.
    pub signer: String,
    pub signer_name: String,
    /// Stamped with the agency's seal.
    pub sealed: bool,
}

/// The faces a page is set in.
pub struct Fonts {
    pub regular: FontVec,
    pub bold: FontVec,
    /// The slanted face fill-ins are written in.
    pub hand: FontVec,
}

pub const INK: [u8; 3] = [15, 15, 15];
const RED: [u8; 3] = [205, 35, 45];
const BLUE: [u8; 3] = [30, 50, 160];
/// The tuning part's fill-in ink.
const VIOLET: [u8; 3] = [70, 35, 95];
const PAPER: u8 = 250;

/// An A4 sheet at `dpi`, inked by multiplying (a seal's ink darkens the print under it).
pub struct Canvas {
    pub img: RgbImage,
    dpi: u32,
    /// Whether anything but black ink is on it.
    pub coloured: bool,
}

impl Canvas {
    pub fn new(dpi: u32) -> Canvas {
        let mm = |v: f32| (v / 25.4 * dpi as f32).round() as u32;
        Canvas { img: RgbImage::from_pixel(mm(210.0), mm(297.0), Rgb([PAPER; 3])), dpi, coloured: false }
    }

    pub fn mm(&self, v: f32) -> f32 {
        v / 25.4 * self.dpi as f32
    }

    fn width(&self) -> f32 {
        self.img.width() as f32
    }

    fn put(&mut self, x: i64, y: i64, ink: [u8; 3], coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.img.width()) || y >= i64::from(self.img.height()) {
            return;
        }
        let c = coverage.clamp(0.0, 1.0);
        let p = self.img.get_pixel_mut(x as u32, y as u32);
        for (channel, ink) in p.0.iter_mut().zip(ink) {
            *channel = (f32::from(*channel) * (1.0 - c * (1.0 - f32::from(ink) / 255.0))) as u8;
        }
    }

    fn scale(&self, points: f32) -> PxScale {
        PxScale::from(points / 72.0 * self.dpi as f32)
    }

    /// The width of `text` set at `points`.
    pub fn text_width(&self, font: &FontVec, points: f32, text: &str) -> f32 {
        let scaled = font.as_scaled(self.scale(points));
        text.chars().map(|c| scaled.h_advance(scaled.glyph_id(c))).sum()
    }

    /// The distance between baselines at `points`.
    pub fn leading(&self, points: f32) -> f32 {
        self.scale(points).y * 1.3
    }

    /// Sets `text` from `x` on `baseline`; with `hand`, each glyph sits a little off the
    /// line and is a little larger or smaller, as handwriting. Returns the width set.
    #[allow(clippy::too_many_arguments)]
    pub fn text(&mut self, font: &FontVec, points: f32, x: f32, baseline: f32, text: &str, ink: [u8; 3], hand: Option<&mut Rng>) -> f32 {
        let scale = self.scale(points);
        let scaled = font.as_scaled(scale);
        let mut pen = x;
        let mut hand = hand;
        if ink != INK {
            self.coloured = true;
        }
        for ch in text.chars() {
            let (dy, grow) = match hand.as_deref_mut() {
                Some(rng) => (rng.range(-0.06, 0.06) * scale.y, rng.range(0.95, 1.08)),
                None => (0.0, 1.0),
            };
            let glyph_scale = PxScale::from(scale.y * grow);
            let glyph = scaled.glyph_id(ch).with_scale_and_position(glyph_scale, ab_glyph::point(pen, baseline + dy));
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let mut covered = Vec::new();
                outlined.draw(|gx, gy, c| covered.push((bounds.min.x as i64 + i64::from(gx), bounds.min.y as i64 + i64::from(gy), c)));
                for (px, py, c) in covered {
                    self.put(px, py, ink, c);
                }
            }
            pen += scaled.h_advance(scaled.glyph_id(ch)) * grow;
        }
        pen - x
    }

    /// `text` centred on `centre`.
    pub fn centred(&mut self, font: &FontVec, points: f32, centre: f32, baseline: f32, text: &str) {
        let w = self.text_width(font, points, text);
        self.text(font, points, centre - w / 2.0, baseline, text, INK, None);
    }

    /// A straight stroke `thickness` wide.
    pub fn stroke(&mut self, (x0, y0): (f32, f32), (x1, y1): (f32, f32), thickness: f32, ink: [u8; 3]) {
        let length = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        let steps = (length * 2.0).ceil().max(1.0) as usize;
        let r = (thickness / 2.0).max(0.5);
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            // overlapping dots build up the ink
            self.dot(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r, ink, 0.35);
        }
    }

    /// A filled disc, its edge anti-aliased.
    pub fn dot(&mut self, cx: f32, cy: f32, r: f32, ink: [u8; 3], strength: f32) {
        if ink != INK {
            self.coloured = true;
        }
        let (x0, x1) = ((cx - r - 1.0).floor() as i64, (cx + r + 1.0).ceil() as i64);
        let (y0, y1) = ((cy - r - 1.0).floor() as i64, (cy + r + 1.0).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let c = (r + 0.5 - d).clamp(0.0, 1.0);
                if c > 0.0 {
                    self.put(x, y, ink, c * strength);
                }
            }
        }
    }

    /// Greedy word wrap of `text` to `width`.
    pub fn wrap(&self, font: &FontVec, points: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() { word.to_owned() } else { format!("{current} {word}") };
            if !current.is_empty() && self.text_width(font, points, &candidate) > width {
                lines.push(std::mem::replace(&mut current, word.to_owned()));
            } else {
                current = candidate;
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        lines
    }

    /// A round seal of `radius` centred at (cx, cy): two rings, the agency's name around
    /// the top, a star in the middle, in red ink that comes out uneven.
    pub fn seal(&mut self, font: &FontVec, cx: f32, cy: f32, radius: f32, agency: &str, rng: &mut Rng) {
        self.coloured = true;
        let ring = self.mm(0.8);
        let inner = radius - self.mm(4.8);
        let strength = rng.range(0.7, 0.95);
        let (x0, x1) = ((cx - radius - 2.0) as i64, (cx + radius + 2.0) as i64);
        let (y0, y1) = ((cy - radius - 2.0) as i64, (cy + radius + 2.0) as i64);
        let star = star(cx, cy, inner * 0.45);
        let mut noise = rng.next_u64();
        for y in y0..=y1 {
            for x in x0..=x1 {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                let on_ring = (d - (radius - ring / 2.0)).abs() < ring / 2.0 || (d - inner).abs() < ring * 0.3;
                let on_star = d < inner * 0.5 && inside(&star, x as f32, y as f32);
                if on_ring || on_star {
                    noise ^= noise << 13;
                    noise ^= noise >> 7;
                    noise ^= noise << 17;
                    let patchy = 0.75 + 0.25 * (noise % 1000) as f32 / 1000.0;
                    self.put(x, y, RED, strength * patchy);
                }
            }
        }
        // the name around the top, between the rings, left to right over the top
        let points = (radius - inner) / self.dpi as f32 * 72.0 * 0.62;
        let scale = self.scale(points);
        let scaled = font.as_scaled(scale);
        let baseline_radius = inner + self.mm(1.0);
        let total: f32 = agency.chars().map(|c| scaled.h_advance(scaled.glyph_id(c))).sum();
        let span = (total / baseline_radius).min(std::f32::consts::PI * 1.6);
        let squeeze = span * baseline_radius / total.max(1.0);
        let mut angle = -std::f32::consts::FRAC_PI_2 - span / 2.0;
        for ch in agency.chars() {
            let advance = scaled.h_advance(scaled.glyph_id(ch)) * squeeze;
            let glyph = scaled.glyph_id(ch).with_scale_and_position(scale, ab_glyph::point(0.0, 0.0));
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                let mut covered = Vec::new();
                outlined.draw(|gx, gy, c| covered.push((bounds.min.x + gx as f32, bounds.min.y + gy as f32, c)));
                for (u, v, c) in covered {
                    // u along the circle, v up from the baseline (negative is outward)
                    let phi = angle + u / baseline_radius;
                    let r = baseline_radius - v;
                    let (x, y) = (cx + r * phi.cos(), cy + r * phi.sin());
                    for (dx, dy) in [(0.0, 0.0), (0.5, 0.0), (0.0, 0.5)] {
                        self.put((x + dx) as i64, (y + dy) as i64, RED, c * strength * 0.8);
                    }
                }
            }
            angle += advance / baseline_radius;
        }
    }

    /// A signature: a fast looping stroke about `width` long starting at (x, y), in blue.
    pub fn signature(&mut self, x: f32, y: f32, width: f32, rng: &mut Rng) {
        let height = self.mm(rng.range(4.0, 7.0));
        let thickness = self.mm(rng.range(0.35, 0.55));
        let (f1, f2, phase) = (rng.range(2.0, 4.0), rng.range(4.0, 7.0), rng.range(0.0, 628.0) / 100.0);
        let steps = 220;
        let mut last = (x, y);
        for i in 1..=steps {
            let t = i as f32 / steps as f32;
            let loops = (std::f32::consts::TAU * f2 * t + phase).sin();
            let px = x + width * t + self.mm(3.5) * (std::f32::consts::TAU * f1 * t).cos() * (1.0 - t);
            let py = y - height * loops * (1.0 - 0.4 * t);
            self.stroke(last, (px, py), thickness, BLUE);
            last = (px, py);
        }
        // the underline flourish
        let back = (x + width * rng.range(0.1, 0.3), y + self.mm(rng.range(1.5, 3.5)));
        self.stroke(last, back, thickness, BLUE);
    }
}

/// A five-pointed star's outline.
fn star(cx: f32, cy: f32, r: f32) -> Vec<(f32, f32)> {
    (0..10)
        .map(|i| {
            let a = -std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
            let rr = if i % 2 == 0 { r } else { r * 0.4 };
            (cx + rr * a.cos(), cy + rr * a.sin())
        })
        .collect()
}

/// Even-odd point in polygon.
fn inside(poly: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut odd = false;
    let mut j = poly.len() - 1;
    for i in 0..poly.len() {
        let ((xi, yi), (xj, yj)) = (poly[i], poly[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            odd = !odd;
        }
        j = i;
    }
    odd
}

const BODY: f32 = 13.0;
const HEADING: f32 = 12.5;
const TITLE: f32 = 15.0;
const SMALL: f32 = 11.0;

/// Sets `content` in `layout` (any but `Plain`): the page and the text as printed, in
/// reading order.
pub fn set(layout: Layout, content: &Content, fonts: &Fonts, dpi: u32, rng: &mut Rng) -> (Canvas, Vec<String>) {
    let mut page = Canvas::new(dpi);
    let mut truth = Vec::new();
    let left = page.mm(28.0);
    let right = page.width() - page.mm(18.0);
    let centre = (left + right) / 2.0;
    let mut y = page.mm(18.0);
    let lead = page.leading(BODY);

    // the header: national header centred, or the agency left and it right
    if layout == Layout::TwoColumn {
        let (agency_centre, nation_centre) = (left + (right - left) * 0.2, left + (right - left) * 0.68);
        let nation = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"];
        let top = y + page.leading(HEADING);
        page.centred(&fonts.regular, HEADING - 0.5, agency_centre, top, &content.agency[0]);
        page.centred(&fonts.bold, HEADING - 0.5, agency_centre, top + page.leading(HEADING), &content.agency[1]);
        page.centred(&fonts.bold, HEADING - 0.5, nation_centre, top, nation[0]);
        page.centred(&fonts.bold, HEADING, nation_centre, top + page.leading(HEADING), nation[1]);
        let rule = top + page.leading(HEADING) + page.mm(1.8);
        let half = page.mm(14.0);
        page.stroke((agency_centre - half, rule), (agency_centre + half, rule), page.mm(0.3), INK);
        page.stroke((nation_centre - half * 2.0, rule), (nation_centre + half * 2.0, rule), page.mm(0.3), INK);
        y = rule + page.leading(HEADING);
        if !content.number.is_empty() {
            page.centred(&fonts.regular, BODY, agency_centre, y, &content.number);
        }
        let w = page.text_width(&fonts.hand, BODY, &content.place_date);
        page.text(&fonts.hand, BODY, nation_centre - w / 2.0, y, &content.place_date, INK, None);
        truth.extend([content.agency[0].clone(), nation[0].into(), content.agency[1].clone(), nation[1].into()]);
        truth.extend([content.number.clone(), content.place_date.clone()]);
    } else {
        for (i, text) in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"].iter().enumerate() {
            y += page.leading(HEADING);
            page.centred(&fonts.bold, HEADING - if i == 0 { 0.5 } else { 0.0 }, centre, y, text);
            truth.push((*text).to_owned());
        }
        let half = page.text_width(&fonts.bold, HEADING, "Độc lập - Tự do - Hạnh phúc") / 2.0;
        page.stroke((centre - half, y + page.mm(1.8)), (centre + half, y + page.mm(1.8)), page.mm(0.3), INK);
        if !content.number.is_empty() {
            y += lead * 1.3;
            page.text(&fonts.regular, BODY, left, y, &content.number, INK, None);
            truth.push(content.number.clone());
        }
    }

    // the title, wrapped when wider than the text block
    y += lead * 0.8;
    for line in page.wrap(&fonts.bold, TITLE, &content.title, right - left - page.mm(10.0)) {
        y += page.leading(TITLE);
        page.centred(&fonts.bold, TITLE, centre, y, &line);
        truth.push(line);
    }
    if let Some(recipient) = &content.recipient {
        y += lead * 1.4;
        page.centred(&fonts.regular, BODY, centre, y, recipient);
        truth.push(recipient.clone());
    }
    y += lead * 0.6;

    match layout {
        Layout::Table => y = table(&mut page, fonts, content, left, right, y, &mut truth),
        Layout::Leaders => y = leaders(&mut page, fonts, content, left, right, y, rng, &mut truth),
        Layout::Dotted => y = dotted(&mut page, fonts, content, left, right, y, rng, &mut truth),
        Layout::Filled => y = filled(&mut page, fonts, content, left, right, y, rng, &mut truth),
        Layout::TwoColumn => y = columns(&mut page, fonts, content, left, right, y, &mut truth),
        Layout::Plain | Layout::Photocopy => {
            for (label, value) in &content.fields {
                for line in page.wrap(&fonts.regular, BODY, &format!("{label}: {value}"), right - left) {
                    y += lead;
                    page.text(&fonts.regular, BODY, left, y, &line, INK, None);
                    truth.push(line);
                }
            }
        }
    }
    y += lead * 0.4;
    for paragraph in &content.body {
        for line in page.wrap(&fonts.regular, BODY, paragraph, right - left) {
            y += lead;
            page.text(&fonts.regular, BODY, left, y, &line, INK, None);
            truth.push(line);
        }
    }

    // the signature block, right half: place and date, signer's title, signature, name
    let block = left + (right - left) * 0.72;
    if layout != Layout::TwoColumn {
        y += lead * 1.3;
        let w = page.text_width(&fonts.hand, BODY, &content.place_date);
        page.text(&fonts.hand, BODY, block - w / 2.0, y, &content.place_date, INK, None);
        truth.push(content.place_date.clone());
    }
    y += lead * 1.2;
    page.centred(&fonts.bold, BODY, block, y, &content.signer);
    truth.push(content.signer.clone());
    let signer_y = y;
    y += lead * 0.9;
    page.centred(&fonts.hand, SMALL, block, y, "(Ký, ghi rõ họ tên)");
    truth.push("(Ký, ghi rõ họ tên)".into());
    let sign_width = page.mm(rng.range(28.0, 40.0));
    page.signature(block - sign_width / 2.0, y + page.mm(11.0), sign_width, rng);
    if content.sealed {
        // the seal sits over the left of the signer's title and the signature, as stamped
        let radius = page.mm(rng.range(17.0, 20.0));
        let cx = block - page.mm(rng.range(14.0, 22.0));
        let cy = signer_y + page.mm(rng.range(6.0, 12.0));
        let agency = format!("{} {}", content.agency[0], content.agency[1]);
        page.seal(&fonts.bold, cx, cy, radius, &agency, rng);
    }
    y += page.mm(24.0);
    page.centred(&fonts.bold, BODY, block, y, &content.signer_name);
    truth.push(content.signer_name.clone());
    (page, truth)
}

/// Fields in a ruled table: label left, value right. Returns the last baseline.
fn table(page: &mut Canvas, fonts: &Fonts, content: &Content, left: f32, right: f32, mut y: f32, truth: &mut Vec<String>) -> f32 {
    let lead = page.leading(BODY);
    let split = left + (right - left) * 0.42;
    let pad = page.mm(1.6);
    let rule = page.mm(0.25);
    let mut top = y + lead * 0.4;
    page.stroke((left, top), (right, top), rule, INK);
    for (label, value) in &content.fields {
        let labels = page.wrap(&fonts.regular, BODY, label, split - left - 2.0 * pad);
        let values = page.wrap(&fonts.regular, BODY, value, right - split - 2.0 * pad);
        let rows = labels.len().max(values.len()).max(1);
        for (i, line) in labels.iter().enumerate() {
            page.text(&fonts.regular, BODY, left + pad, top + lead * (i as f32 + 1.0), line, INK, None);
        }
        for (i, line) in values.iter().enumerate() {
            page.text(&fonts.regular, BODY, split + pad, top + lead * (i as f32 + 1.0), line, INK, None);
        }
        truth.push(format!("{} {}", labels.join(" "), values.join(" ")));
        let bottom = top + lead * rows as f32 + pad * 1.5;
        for x in [left, split, right] {
            page.stroke((x, top), (x, bottom), rule, INK);
        }
        page.stroke((left, bottom), (right, bottom), rule, INK);
        top = bottom;
    }
    y = top;
    y
}

/// Fields on dotted leaders, the values written over them by hand.
#[allow(clippy::too_many_arguments)]
fn leaders(
    page: &mut Canvas,
    fonts: &Fonts,
    content: &Content,
    left: f32,
    right: f32,
    mut y: f32,
    rng: &mut Rng,
    truth: &mut Vec<String>,
) -> f32 {
    let lead = page.leading(BODY) * 1.2;
    let dot_gap = page.mm(1.3);
    for (label, value) in &content.fields {
        y += lead;
        let label = format!("{label}:");
        let w = page.text(&fonts.regular, BODY, left, y, &label, INK, None);
        let start = left + w + page.mm(1.0);
        let mut x = start;
        while x < right {
            page.dot(x, y + page.mm(0.5), page.mm(0.17), INK, 0.9);
            x += dot_gap;
        }
        let written = left + w + page.mm(rng.range(3.0, 8.0));
        let fits = page.text_width(&fonts.hand, BODY + 0.5, value) <= right - written;
        if fits {
            page.text(&fonts.hand, BODY + 0.5, written, y - page.mm(0.4), value, BLUE, Some(rng));
        } else {
            // too long for the rest of the line: continued on a second dotted line
            y += lead;
            let mut x = left;
            while x < right {
                page.dot(x, y + page.mm(0.5), page.mm(0.17), INK, 0.9);
                x += dot_gap;
            }
            page.text(&fonts.hand, BODY + 0.5, left + page.mm(4.0), y - page.mm(0.4), value, BLUE, Some(rng));
        }
        truth.push(format!("{label} {value}"));
    }
    y
}

/// Fields of a typed form: "N. Label:" and a leader of typed full stops to the margin, the
/// value written over the leader by hand in black. Returns the last baseline.
#[allow(clippy::too_many_arguments)]
fn dotted(
    page: &mut Canvas,
    fonts: &Fonts,
    content: &Content,
    left: f32,
    right: f32,
    mut y: f32,
    rng: &mut Rng,
    truth: &mut Vec<String>,
) -> f32 {
    const WRITTEN: [u8; 3] = [35, 35, 45];
    let lead = page.leading(BODY) * 1.25;
    let stop = page.text_width(&fonts.regular, BODY, ".");
    let leader = |page: &mut Canvas, from: f32, y: f32| {
        let n = ((right - from) / stop).floor().max(0.0) as usize;
        page.text(&fonts.regular, BODY, from, y, &".".repeat(n), INK, None);
    };
    for (i, (label, value)) in content.fields.iter().enumerate() {
        y += lead;
        let label = format!("{}. {label}:", i + 1);
        let w = page.text(&fonts.regular, BODY, left, y, &label, INK, None);
        let from = left + w + page.mm(0.6);
        leader(page, from, y);
        let written = from + page.mm(rng.range(2.0, 10.0));
        if page.text_width(&fonts.hand, BODY, value) <= right - written - page.mm(2.0) {
            page.text(&fonts.hand, BODY, written, y - page.mm(0.9), value, WRITTEN, Some(rng));
        } else {
            y += lead;
            leader(page, left, y);
            page.text(&fonts.hand, BODY, left + page.mm(6.0), y - page.mm(0.9), value, WRITTEN, Some(rng));
        }
        truth.push(format!("{label} {value}"));
    }
    y
}

/// Fields on drawn leaders of square specks (0.3 mm, 0.9 mm apart, grey), the values
/// written over them by hand in violet-black ink. Returns the last baseline.
#[allow(clippy::too_many_arguments)]
fn filled(
    page: &mut Canvas,
    fonts: &Fonts,
    content: &Content,
    left: f32,
    right: f32,
    mut y: f32,
    rng: &mut Rng,
    truth: &mut Vec<String>,
) -> f32 {
    const SPECK: [u8; 3] = [70, 70, 70];
    let lead = page.leading(BODY) * 1.3;
    let (pitch, side) = (page.mm(0.9), page.mm(0.3));
    let leader = |page: &mut Canvas, from: f32, y: f32| {
        let mut x = from;
        while x < right {
            page.stroke((x, y + page.mm(0.6)), (x + side, y + page.mm(0.6)), side, SPECK);
            x += pitch;
        }
    };
    for (label, value) in &content.fields {
        y += lead;
        let label = format!("{label}:");
        let w = page.text(&fonts.regular, BODY, left, y, &label, INK, None);
        let from = left + w + page.mm(1.5);
        leader(page, from, y);
        let written = from + page.mm(rng.range(1.0, 12.0));
        if page.text_width(&fonts.hand, BODY + 1.0, value) <= right - written - page.mm(2.0) {
            page.text(&fonts.hand, BODY + 1.0, written, y - page.mm(0.3), value, VIOLET, Some(rng));
        } else {
            y += lead;
            leader(page, left, y);
            page.text(&fonts.hand, BODY + 1.0, left + page.mm(3.0), y - page.mm(0.3), value, VIOLET, Some(rng));
        }
        truth.push(format!("{label} {value}"));
    }
    y
}

/// Fields two to a row where both fit a column, else across the page.
fn columns(page: &mut Canvas, fonts: &Fonts, content: &Content, left: f32, right: f32, mut y: f32, truth: &mut Vec<String>) -> f32 {
    let lead = page.leading(BODY);
    let middle = left + (right - left) * 0.55;
    let texts: Vec<String> = content.fields.iter().map(|(l, v)| format!("{l}: {v}")).collect();
    let fits = |page: &Canvas, t: &str, width: f32| page.text_width(&fonts.regular, BODY, t) <= width - page.mm(4.0);
    let mut i = 0;
    while i < texts.len() {
        y += lead;
        let pair = i + 1 < texts.len() && fits(page, &texts[i], middle - left) && fits(page, &texts[i + 1], right - middle);
        if pair {
            page.text(&fonts.regular, BODY, left, y, &texts[i], INK, None);
            page.text(&fonts.regular, BODY, middle, y, &texts[i + 1], INK, None);
            truth.push(format!("{} {}", texts[i], texts[i + 1]));
            i += 2;
        } else {
            let lines = page.wrap(&fonts.regular, BODY, &texts[i], right - left);
            for (j, line) in lines.iter().enumerate() {
                if j > 0 {
                    y += lead;
                }
                page.text(&fonts.regular, BODY, left, y, line, INK, None);
                truth.push(line.clone());
            }
            i += 1;
        }
    }
    y
}

/// Two holes punched in the left margin, dark where the lid shows through.
pub fn punch_holes(page: &mut GrayImage, dpi: u32, rng: &mut Rng) {
    let mm = |v: f32| v / 25.4 * dpi as f32;
    let (h, x) = (page.height() as f32, mm(rng.range(9.0, 13.0)));
    for cy in [h / 2.0 - mm(40.0), h / 2.0 + mm(40.0)] {
        let r = mm(3.0);
        let shade = rng.range(40.0, 90.0);
        disc(page, x, cy, r, |old, c| (f32::from(old) * (1.0 - c) + shade * c) as u8);
        // a thin bright rim where the punched edge catches the light
        disc(page, x - r * 0.08, cy - r * 0.08, r * 0.95, |old, _| old);
    }
}

fn disc(page: &mut GrayImage, cx: f32, cy: f32, r: f32, mut paint: impl FnMut(u8, f32) -> u8) {
    let (w, h) = (page.width() as i64, page.height() as i64);
    for y in (cy - r - 1.0) as i64..=(cy + r + 1.0) as i64 {
        for x in (cx - r - 1.0) as i64..=(cx + r + 1.0) as i64 {
            if x < 0 || y < 0 || x >= w || y >= h {
                continue;
            }
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            let c = (r + 0.5 - d).clamp(0.0, 1.0);
            if c > 0.0 {
                let p = page.get_pixel_mut(x as u32, y as u32);
                p[0] = paint(p[0], c);
            }
        }
    }
}

/// A page folded in three: a dark crease with a shaded band beside each fold.
pub fn folds(page: &mut GrayImage, dpi: u32, rng: &mut Rng) {
    let mm = |v: f32| v / 25.4 * dpi as f32;
    let h = page.height() as f32;
    for third in [1.0, 2.0] {
        let fold = (h * third / 3.0 + mm(rng.range(-6.0, 6.0))) as i64;
        let band = mm(rng.range(2.0, 5.0)) as i64;
        let depth = rng.range(0.08, 0.18);
        for y in (fold - band).max(0)..(fold + band).min(page.height() as i64) {
            let d = (y - fold) as f32 / band as f32;
            // darker on one side of the crease, a touch lighter on the other
            let factor = if d < 0.0 { 1.0 - depth * (1.0 + d) } else { 1.0 + 0.3 * depth * (1.0 - d) };
            let factor = if y == fold { 0.6 } else { factor };
            for x in 0..page.width() {
                let p = page.get_pixel_mut(x, y as u32);
                p[0] = (f32::from(p[0]) * factor).min(255.0) as u8;
            }
        }
    }
}

/// The scanner's dark lid beyond the paper's edges on some sides, with the paper's shadow.
pub fn dark_border(page: &mut GrayImage, dpi: u32, rng: &mut Rng) {
    let mm = |v: f32| v / 25.4 * dpi as f32;
    let (w, h) = (page.width(), page.height());
    let widths: Vec<u32> = (0..4).map(|_| if rng.below(3) == 0 { 0 } else { mm(rng.range(2.0, 9.0)) as u32 }).collect();
    let shadow = mm(3.0);
    for (x, y, p) in page.enumerate_pixels_mut() {
        let edges = [x, w - 1 - x, y, h - 1 - y];
        let mut shade = 1.0f32;
        for (edge, width) in edges.iter().zip(&widths) {
            if *width == 0 {
                continue;
            }
            if edge < width {
                shade = shade.min(0.12);
            } else {
                let d = (edge - width) as f32;
                if d < shadow {
                    shade = shade.min(0.55 + 0.45 * d / shadow);
                }
            }
        }
        if shade < 1.0 {
            p[0] = (f32::from(p[0]) * shade) as u8;
        }
    }
}

/// A photocopy: grey paper with toner noise, the print heavier, a streak or two along
/// the page.
pub fn photocopy(page: &mut GrayImage, rng: &mut Rng) {
    let paper = rng.range(0.78, 0.88);
    let streaks: Vec<(u32, f32)> =
        (0..1 + rng.below(3)).map(|_| (rng.below(u64::from(page.width())) as u32, rng.range(0.8, 0.92))).collect();
    let mut noise = rng.next_u64() | 1;
    for (x, _, p) in page.enumerate_pixels_mut() {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        let grain = (noise % 25) as f32 - 12.0;
        let v = f32::from(p[0]);
        let mut out = if v < 140.0 { v * 0.55 } else { v * paper + grain };
        if streaks.iter().any(|(sx, _)| x.abs_diff(*sx) <= 1) {
            out *= streaks.iter().find(|(sx, _)| x.abs_diff(*sx) <= 1).map_or(1.0, |s| s.1);
        }
        p[0] = out.clamp(0.0, 255.0) as u8;
    }
}

/// The luma of a colour page, as a photocopier sees it.
pub fn grey(page: &RgbImage) -> GrayImage {
    GrayImage::from_fn(page.width(), page.height(), |x, y| {
        let [r, g, b] = page.get_pixel(x, y).0;
        Luma([(0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_named_and_split_into_two_parts() {
        for layout in Layout::ALL {
            assert_eq!(Layout::parse(layout.name()), Some(layout));
            assert_ne!(Layout::TUNING.contains(&layout), layout.held_out(), "{layout:?}");
        }
        assert_eq!(Layout::parse("nonsense"), None);
    }

    #[test]
    fn a_seal_is_red_and_round() {
        let font = FontVec::try_from_vec(std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf").unwrap()).unwrap();
        let mut page = Canvas::new(150);
        let (cx, cy, r) = (600.0, 800.0, page.mm(18.0));
        page.seal(&font, cx, cy, r, "ỦY BAN NHÂN DÂN XÃ TÂN LẬP", &mut Rng::new(3));
        assert!(page.coloured);
        // on the outer ring: red, not grey
        let p = page.img.get_pixel((cx + r - page.mm(0.4)) as u32, cy as u32);
        assert!(p[0] > 150 && p[1] < 150 && p[2] < 150, "{p:?}");
        // outside the seal: paper
        assert_eq!(page.img.get_pixel((cx + r + 10.0) as u32, cy as u32).0, [PAPER; 3]);
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let font = FontVec::try_from_vec(std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").unwrap()).unwrap();
        let page = Canvas::new(200);
        let text = "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở VÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT";
        let width = page.mm(120.0);
        let lines = page.wrap(&font, 15.0, text, width);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| page.text_width(&font, 15.0, l) <= width));
        assert_eq!(lines.join(" "), text);
    }
}
