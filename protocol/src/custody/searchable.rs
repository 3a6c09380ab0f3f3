//! Searchable PDF assembly: each page is the original image at its physical size with the
//! recognised words as invisible text (render mode 3) in a Type0 / Identity-H font whose
//! ToUnicode map gives the words back as Unicode. Output is deterministic for the same
//! input, so a retried job stores the same bytes.

use super::PageText;
use crate::pages::{Frame, Original, TextLayer, TextPolicy};
use lopdf::{dictionary, Dictionary, Document, Object, ObjectId, Stream, StringFormat};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;

/// Tesseract's glyphless font: one empty glyph, half an em wide, for every code.
const GLYPHLESS: &[u8] = include_bytes!("../../../assets/glyphless.ttf");
/// Advance of the glyphless glyph in thousandths of the font size.
const ADVANCE: f32 = 500.0;
/// The text layer's font resource name, unlikely to be a scan's own.
const FONT: &str = "SohoaOCR";

const IDENTITY: [f32; 6] = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// Decoded content of one page or form, far above any real page.
const MAX_CONTENT: usize = 64 << 20;

/// What recognition read on a page: its words, from a `width` x `height` rendering at `dpi`.
pub struct PageRead<'a> {
    pub text: &'a PageText,
    pub width: u32,
    pub height: u32,
    pub dpi: f32,
}

/// The pages of a PDF scan taken into a copy, by their number in the scan.
pub struct Imported {
    pages: BTreeMap<u32, ObjectId>,
}

pub struct Writer {
    doc: Document,
    pages_id: ObjectId,
    font_id: ObjectId,
    kids: Vec<Object>,
    id_hash: Sha256,
}

impl Writer {
    pub fn new() -> Writer {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font_id = glyphless_font(&mut doc);
        Writer { doc, pages_id, font_id, kids: Vec::new(), id_hash: Sha256::new() }
    }

    /// Adds the `width` x `height` image `original` at `dpi`, its words from `text` laid
    /// over it.
    pub fn add_page(&mut self, original: Original, width: u32, height: u32, text: &PageText, dpi: f32) -> std::io::Result<()> {
        // the page is the upright, deskewed page Tesseract read: sideways scans swap sides
        let (up_w, up_h) = if text.quarter_turns % 2 == 1 { (height, width) } else { (width, height) };
        let scale = 72.0 / dpi;
        let (page_w, page_h) = (up_w as f32 * scale, up_h as f32 * scale);
        let placement = placement(width, height, text.quarter_turns, text.skew, scale);
        let image = image_stream(original)?;
        self.id_hash.update(&image.content);
        let image_id = self.doc.add_object(image);

        let mut content = format!("q {} cm /Im0 Do Q\n", matrix(placement));
        content.push_str(&text_layer(text, up_h, scale, FONT, IDENTITY));
        let content = deflate(content.as_bytes(), 6)?;
        self.id_hash.update(&content);
        let content_id = self.doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, content));
        let page = self.doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => self.pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(page_w), Object::Real(page_h)],
            "Contents" => content_id,
            "Resources" => dictionary! {
                "XObject" => dictionary! { "Im0" => image_id },
                "Font" => dictionary! { FONT => self.font_id },
            },
        });
        self.kids.push(page.into());
        Ok(())
    }

    /// Takes in the objects of a PDF scan, whose pages `add_pdf_page` then adds.
    pub fn import(&mut self, mut source: Document) -> Imported {
        source.renumber_objects_with(self.doc.max_id + 1);
        self.doc.max_id = source.max_id;
        let pages = source.get_pages();
        self.doc.objects.extend(std::mem::take(&mut source.objects));
        Imported { pages }
    }

    /// Adds page `frame.number` of an imported scan as it is (its boxes, /Rotate, UserUnit,
    /// resources and content), with the words of `text`, read from its `width` x `height`
    /// rendering at `dpi`, laid over it. Only what draws the page is kept: annotations,
    /// actions and the source's catalog are left behind.
    pub fn add_pdf_page(
        &mut self,
        imported: &Imported,
        frame: Frame,
        read: PageRead<'_>,
        policy: TextPolicy,
        raster: Option<Original>,
    ) -> std::io::Result<()> {
        let PageRead { text, width, height, dpi } = read;
        let invalid = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("page {}: {why}", frame.number));
        let id = *imported.pages.get(&frame.number).ok_or_else(|| invalid("not in the scan"))?;
        let mut page = Dictionary::new();
        page.set("Type", "Page");
        page.set("Parent", self.pages_id);
        for key in [&b"MediaBox"[..], b"CropBox", b"Rotate", b"Resources"] {
            if let Some(value) = self.inherited(id, key) {
                page.set(key, value);
            }
        }
        let own = self.doc.get_dictionary(id).map_err(|_| invalid("not a page"))?.clone();
        for key in [&b"UserUnit"[..], b"Group"] {
            if let Ok(value) = own.get(key) {
                page.set(key, value.clone());
            }
        }
        let mut resources = match page.get(b"Resources").ok().map(|r| self.doc.dereference(r)) {
            Some(Ok((_, Object::Dictionary(d)))) => d.clone(),
            _ => Dictionary::new(),
        };
        let mut fonts = match resources.get(b"Font").ok().map(|f| self.doc.dereference(f)) {
            Some(Ok((_, Object::Dictionary(d)))) => d.clone(),
            _ => Dictionary::new(),
        };
        fonts.set(FONT, self.font_id);
        resources.set("Font", fonts);

        let mut contents: Vec<Object> = Vec::new();
        let open = self.doc.add_object(Stream::new(dictionary! {}, b"q\n".to_vec()));
        contents.push(open.into());
        let own_contents: Vec<Object> =
            match own.get(b"Contents").ok().map(|c| (c.clone(), self.doc.dereference(c).map(|(_, o)| o.clone()))) {
                Some((_, Ok(Object::Array(items)))) => items,
                Some((reference @ Object::Reference(_), Ok(Object::Stream(_)))) => vec![reference],
                _ => Vec::new(),
            };
        let lay = match (frame.text, policy) {
            (TextLayer::None, _) => true,
            (TextLayer::Invisible, TextPolicy::Keep) | (TextLayer::Visible, TextPolicy::Keep | TextPolicy::Redo) => false,
            (TextLayer::Invisible, _) | (TextLayer::Visible, TextPolicy::Force) => true,
        };
        let (shown_w, shown_h) = frame.shown_size();
        if let Some(image) = raster.filter(|_| policy == TextPolicy::Force && frame.text != TextLayer::None) {
            // forced: the page becomes its rendering, so its own text goes with everything else
            let image = image_stream(image)?;
            self.id_hash.update(&image.content);
            let image_id = self.doc.add_object(image);
            resources =
                dictionary! { "XObject" => dictionary! { "SohoaPage" => image_id }, "Font" => dictionary! { FONT => self.font_id } };
            let draw = compose(frame.shown_to_user(), [shown_w, 0.0, 0.0, shown_h, 0.0, 0.0]);
            contents
                .push(self.doc.add_object(Stream::new(dictionary! {}, format!("{} cm /SohoaPage Do\n", matrix(draw)).into_bytes())).into());
        } else if lay && frame.text != TextLayer::None {
            // the invisible text another recogniser laid goes; what a reader sees stays
            let stripped = self.without_invisible_text(&own_contents, &mut resources).map_err(|e| invalid(&e))?;
            contents.push(stripped.into());
        } else {
            contents.extend(own_contents);
        }
        page.set("Resources", resources);
        let mut tail = String::from("Q\n");
        if lay && !text.words.is_empty() {
            let up_h = if text.quarter_turns % 2 == 1 { width } else { height };
            let scale = 72.0 / dpi;
            // upright text points -> the image's unit square -> the page as shown -> user space;
            // the layer is laid square to the page (its turn, not its skew), each line moved to
            // where its middle lies on the skewed page
            let placed = placement(width, height, text.quarter_turns, text.skew, scale);
            let square = placement(width, height, text.quarter_turns, 0.0, scale);
            let degenerate = || invalid("a degenerate frame");
            let to_unit = invert(square).ok_or_else(degenerate)?;
            let to_user = compose(frame.shown_to_user(), compose([shown_w, 0.0, 0.0, shown_h, 0.0, 0.0], to_unit));
            let move_line = compose(square, invert(placed).ok_or_else(degenerate)?);
            tail.push_str(&format!("q {} cm\n{}Q\n", matrix(to_user), text_layer(text, up_h, scale, FONT, move_line)));
        }
        let tail = deflate(tail.as_bytes(), 6)?;
        self.id_hash.update(&tail);
        let tail = self.doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, tail));
        contents.push(tail.into());
        page.set("Contents", contents);
        self.doc.objects.insert(id, Object::Dictionary(page));
        self.kids.push(id.into());
        Ok(())
    }

    /// The page's content, its streams joined, without text shown in render mode 3; forms it
    /// draws that show such text are replaced in `resources` by copies without it.
    fn without_invisible_text(&mut self, contents: &[Object], resources: &mut Dictionary) -> Result<ObjectId, String> {
        let mut joined = Vec::new();
        for item in contents {
            let (_, stream) = self.doc.dereference(item).map_err(|e| e.to_string())?;
            let stream = stream.as_stream().map_err(|e| e.to_string())?;
            joined.extend(stream.get_plain_content_with_limit(MAX_CONTENT).map_err(|e| e.to_string())?);
            joined.push(b'\n');
        }
        let mut xobjects = match resources.get(b"XObject").ok().map(|x| self.doc.dereference(x)) {
            Some(Ok((_, Object::Dictionary(d)))) => d.clone(),
            _ => Dictionary::new(),
        };
        let names: Vec<Vec<u8>> = xobjects.iter().map(|(name, _)| name.clone()).collect();
        for name in names {
            let Some(form) = xobjects.get(&name).ok().and_then(|f| self.doc.dereference(f).ok()).and_then(|(_, f)| f.as_stream().ok())
            else {
                continue;
            };
            if form.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() != Some(b"Form") {
                continue;
            }
            let Ok(inner) = form.get_plain_content_with_limit(MAX_CONTENT) else { continue };
            let Some(filtered) = strip_invisible(&inner) else { continue };
            let mut dict = form.dict.clone();
            dict.remove(b"DecodeParms");
            dict.set("Filter", "FlateDecode");
            let copy = self.doc.add_object(Stream::new(dict, deflate(&filtered, 6).map_err(|e| e.to_string())?));
            xobjects.set(name, copy);
        }
        if !xobjects.is_empty() {
            resources.set("XObject", xobjects);
        }
        let content = strip_invisible(&joined).unwrap_or(joined);
        let content = deflate(&content, 6).map_err(|e| e.to_string())?;
        self.id_hash.update(&content);
        Ok(self.doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, content)))
    }

    /// A page attribute from the page or, for the inheritable ones, its nearest ancestor.
    fn inherited(&self, id: ObjectId, key: &[u8]) -> Option<Object> {
        let mut node = self.doc.get_dictionary(id).ok()?;
        for _ in 0..64 {
            if let Ok(value) = node.get(key) {
                return self.doc.dereference(value).ok().map(|(_, o)| o.clone());
            }
            let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
            node = self.doc.get_dictionary(parent).ok()?;
        }
        None
    }

    pub fn finish(mut self) -> std::io::Result<Vec<u8>> {
        let count = self.kids.len() as i64;
        self.doc
            .objects
            .insert(self.pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => self.kids, "Count" => count }));
        let metadata = self.doc.add_object(Stream::new(dictionary! { "Type" => "Metadata", "Subtype" => "XML" }, xmp().into_bytes()));
        let catalog = self.doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => self.pages_id, "Metadata" => metadata });
        let info = self.doc.add_object(dictionary! { "Producer" => Object::string_literal("sohoa") });
        let id = self.id_hash.finalize()[..16].to_vec();
        self.doc.trailer.set("Root", catalog);
        self.doc.trailer.set("Info", info);
        self.doc
            .trailer
            .set("ID", vec![Object::String(id.clone(), StringFormat::Hexadecimal), Object::String(id, StringFormat::Hexadecimal)]);
        // what the scans' pages do not draw (their catalogs, forms, annotations) goes
        self.doc.prune_objects();
        let mut out = Vec::new();
        self.doc.save_to(&mut out)?;
        Ok(out)
    }
}

/// `content` without the text it shows in render mode 3 (a line-moving show becomes the
/// move alone), or none when it shows no such text or cannot be read.
fn strip_invisible(content: &[u8]) -> Option<Vec<u8>> {
    use lopdf::content::{Content, Operation};
    let parsed = Content::decode(content).ok()?;
    let (mut mode, mut changed) = (0i64, false);
    let mut kept = Vec::with_capacity(parsed.operations.len());
    for op in parsed.operations {
        match op.operator.as_str() {
            "Tr" => mode = op.operands.first().and_then(|o| o.as_i64().ok()).unwrap_or(0),
            "Tj" | "TJ" if mode == 3 => {
                changed = true;
                continue;
            }
            "'" if mode == 3 => {
                changed = true;
                kept.push(Operation::new("T*", vec![]));
                continue;
            }
            "\"" if mode == 3 => {
                changed = true;
                let mut operands = op.operands.into_iter();
                kept.push(Operation::new("Tw", operands.next().into_iter().collect()));
                kept.push(Operation::new("Tc", operands.next().into_iter().collect()));
                kept.push(Operation::new("T*", vec![]));
                continue;
            }
            _ => {}
        }
        kept.push(op);
    }
    if !changed {
        return None;
    }
    Content { operations: kept }.encode().ok()
}

/// The `cm` matrix that draws the original image (its unit square) turned upright and
/// deskewed onto the page, so the original bytes go into the PDF untouched and the text
/// layer lies on straight lines.
pub(super) fn placement(width: u32, height: u32, quarter_turns: u8, skew: f32, scale: f32) -> [f32; 6] {
    let (w, h) = (width as f32, height as f32);
    let (up_w, up_h) = if quarter_turns % 2 == 1 { (h, w) } else { (w, h) };
    let (cx, cy) = (up_w / 2.0, up_h / 2.0);
    // preprocessing sampled the upright image at c + R(p - c), R the rotation by -skew;
    // a point of the upright image therefore lands at c + R⁻¹(p - c)
    let (s, c) = (-skew).to_radians().sin_cos();
    let to_page = |u: f32, v: f32| {
        // unit square (image row 0 at the top) -> original pixels -> upright pixels
        let (px, py) = (u * w, (1.0 - v) * h);
        let (a, b) = match quarter_turns % 4 {
            1 => (h - py, px),
            2 => (w - px, h - py),
            3 => (py, w - px),
            _ => (px, py),
        };
        let (dx, dy) = (a - cx, b - cy);
        let (x, y) = (cx + dx * c + dy * s, cy - dx * s + dy * c);
        (x * scale, (up_h - y) * scale)
    };
    let (o, e1, e2) = (to_page(0.0, 0.0), to_page(1.0, 0.0), to_page(0.0, 1.0));
    [e1.0 - o.0, e1.1 - o.1, e2.0 - o.0, e2.1 - o.1, o.0, o.1]
}

/// A `cm` operand; negative zeros written as zeros.
fn matrix(m: [f32; 6]) -> String {
    let z = |v: f32| v + 0.0;
    format!("{:.4} {:.4} {:.4} {:.4} {:.4} {:.4}", z(m[0]), z(m[1]), z(m[2]), z(m[3]), z(m[4]), z(m[5]))
}

/// `outer` after `inner`: a point goes through `inner` first.
fn compose(outer: [f32; 6], inner: [f32; 6]) -> [f32; 6] {
    let [a, b, c, d, e, f] = outer;
    let [a2, b2, c2, d2, e2, f2] = inner;
    [a * a2 + c * b2, b * a2 + d * b2, a * c2 + c * d2, b * c2 + d * d2, a * e2 + c * f2 + e, b * e2 + d * f2 + f]
}

pub(super) fn invert(m: [f32; 6]) -> Option<[f32; 6]> {
    let [a, b, c, d, e, f] = m;
    let det = a * d - b * c;
    if !det.is_normal() {
        return None;
    }
    let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
    Some([ia, ib, ic, id, -(ia * e + ic * f), -(ib * e + id * f)])
}

fn deflate(data: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    z.write_all(data)?;
    z.finish()
}

fn image_stream(original: Original) -> std::io::Result<Stream> {
    let space = |colors: u8| if colors == 3 { "DeviceRGB" } else { "DeviceGray" };
    Ok(match original {
        Original::Jpeg { data, width, height, colors } => Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => space(colors), "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
            data,
        ),
        Original::Png { idat, width, height, colors } => Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => space(colors), "BitsPerComponent" => 8, "Filter" => "FlateDecode",
            "DecodeParms" => dictionary! { "Predictor" => 15, "Colors" => colors, "BitsPerComponent" => 8, "Columns" => width } },
            idat,
        ),
        Original::Raw { data, width, height, colors } => Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => space(colors), "BitsPerComponent" => 8, "Filter" => "FlateDecode" },
            // Fast compression: scans are large and this runs once per page.
            deflate(&data, 1)?,
        ),
        Original::Bilevel { g4, width, height } => Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1, "Filter" => "CCITTFaxDecode",
            "DecodeParms" => dictionary! { "K" => -1, "Columns" => width, "Rows" => height } },
            g4,
        ),
        Original::Pdf(_) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "a PDF page is not an image")),
    })
}

/// Invisible words placed over their image: the page image is the one Tesseract read
/// (upright and deskewed), so word boxes map straight to page coordinates.
/// Each line is moved as a whole by `move_line` (applied to its middle), so that a layer
/// laid straight over a skewed page keeps its lines straight and whole for text extraction.
fn text_layer(text: &PageText, height: u32, scale: f32, font: &str, move_line: [f32; 6]) -> String {
    if text.words.is_empty() {
        return String::new();
    }
    let to_pdf = |x: f32, y: f32| (x * scale, (height as f32 - y) * scale);
    let mut spans: std::collections::HashMap<u32, (u32, u32)> = std::collections::HashMap::new();
    for w in &text.words {
        let span = spans.entry(w.line).or_insert((w.x, w.x + w.w));
        *span = (span.0.min(w.x), span.1.max(w.x + w.w));
    }
    // One size and baseline per line, as pdftotext and viewers group text by them; medians,
    // so that a stray mark read as a word does not move the line.
    let mut per_line: std::collections::HashMap<u32, (Vec<u32>, Vec<u32>)> = std::collections::HashMap::new();
    for w in &text.words {
        let entry = per_line.entry(w.line).or_default();
        entry.0.push(w.y + w.h);
        entry.1.push(w.h);
    }
    let median = |v: &mut Vec<u32>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let lines: std::collections::HashMap<u32, (u32, u32)> =
        per_line.into_iter().map(|(line, (mut bottoms, mut heights))| (line, (median(&mut bottoms), median(&mut heights)))).collect();
    let mut out = String::from("BT\n3 Tr\n");
    let words = &text.words;
    for (i, word) in words.iter().enumerate() {
        let (bottom, line_height) = lines.get(&word.line).copied().unwrap_or((word.y + word.h, word.h));
        let next = words.get(i + 1).filter(|n| n.line == word.line);
        let mut shown = word.text.clone();
        let mut span = word.w as f32;
        if let Some(next) = next {
            // the space to the next word belongs to this word, so copy-paste keeps it
            shown.push(' ');
            span = (next.x as f32 - word.x as f32).max(word.w as f32);
        }
        let units = utf16_units(&shown);
        let size = (line_height as f32 * scale).max(1.0);
        let natural = units.len() as f32 * ADVANCE / 1000.0 * size;
        let stretch = (100.0 * span * scale / natural.max(0.01)).clamp(1.0, 10_000.0);
        let (x, y) = to_pdf(word.x as f32, bottom as f32);
        let (left, right) = spans.get(&word.line).copied().unwrap_or((word.x, word.x + word.w));
        let (mx, my) = to_pdf((left + right) as f32 / 2.0, bottom as f32);
        let [a, b, c, d, e, f] = move_line;
        let (dx, dy) = (a * mx + c * my + e - mx, b * mx + d * my + f - my);
        let (x, y) = (x + dx, y + dy);
        out.push_str(&format!("/{font} {size:.2} Tf {stretch:.2} Tz 1 0 0 1 {x:.2} {y:.2} Tm <"));
        for unit in units {
            out.push_str(&format!("{unit:04X}"));
        }
        out.push_str("> Tj\n");
    }
    out.push_str("ET\n");
    out
}

/// Character codes are UTF-16 units; characters outside the basic plane become U+FFFD.
fn utf16_units(text: &str) -> Vec<u16> {
    text.chars().map(|ch| u16::try_from(u32::from(ch)).ok().filter(|u| !(0xD800..0xE000).contains(u)).unwrap_or(0xFFFD)).collect()
}

fn glyphless_font(doc: &mut Document) -> ObjectId {
    // every page of every copy carries these: compressed, they cost a few hundred bytes
    let file = doc.add_object(Stream::new(
        dictionary! { "Length1" => GLYPHLESS.len() as i64, "Filter" => "FlateDecode" },
        deflate(GLYPHLESS, 9).unwrap_or_default(),
    ));
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor", "FontName" => "GlyphLessFont", "Flags" => 5,
        "FontBBox" => vec![0.into(), 0.into(), (ADVANCE as i64).into(), 1000.into()],
        "ItalicAngle" => 0, "Ascent" => 1000, "Descent" => 0, "CapHeight" => 1000, "StemV" => 80,
        "FontFile2" => file,
    });
    // Every code maps to glyph 1, the glyphless glyph.
    let map: Vec<u8> = (0..0x10000u32).flat_map(|_| [0u8, 1u8]).collect();
    let map = doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, deflate(&map, 9).unwrap_or_default()));
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "GlyphLessFont",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
        "FontDescriptor" => descriptor, "DW" => ADVANCE as i64, "CIDToGIDMap" => map,
    });
    let to_unicode = doc
        .add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, deflate(to_unicode_cmap().as_bytes(), 9).unwrap_or_default()));
    doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "GlyphLessFont", "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid_font.into()], "ToUnicode" => to_unicode,
    })
}

/// Identity from codes to UTF-16, in ranges that stay within one high byte as the CMap
/// syntax requires, skipping surrogates.
fn to_unicode_cmap() -> String {
    let ranges: Vec<String> =
        (0u32..=0xFF).filter(|hi| !(0xD8..0xE0).contains(hi)).map(|hi| format!("<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>")).collect();
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for chunk in ranges.chunks(100) {
        cmap.push_str(&format!("{} beginbfrange\n{}\nendbfrange\n", chunk.len(), chunk.join("\n")));
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// XMP metadata declaring PDF/A-2b.
fn xmp() -> String {
    r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <pdf:Producer>sohoa</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::Word;

    #[test]
    fn images_are_placed_upright() {
        // straight: the image fills the page
        assert_eq!(matrix(placement(200, 100, 0, 0.0, 0.5)), "100.0000 0.0000 0.0000 50.0000 0.0000 0.0000");
        // turned a quarter clockwise: a 200x100 scan becomes a 100x200 page
        assert_eq!(matrix(placement(200, 100, 1, 0.0, 1.0)), "0.0000 -200.0000 100.0000 0.0000 0.0000 200.0000");
        // upside down
        assert_eq!(matrix(placement(200, 100, 2, 0.0, 1.0)), "-200.0000 0.0000 0.0000 -100.0000 200.0000 100.0000");
        let m = placement(200, 100, 1, 3.0, 0.5);
        let back = compose(m, invert(m).unwrap());
        assert!(back.iter().zip([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]).all(|(a, b)| (a - b).abs() < 1e-4), "{back:?}");
    }

    #[test]
    fn invisible_text_goes_and_visible_text_stays() {
        let content = b"q 100 0 0 100 0 0 cm /Im0 Do Q BT /F1 12 Tf 3 Tr 10 10 Td (hidden) Tj [(also)] TJ (next) ' 0 Tr (shown) Tj ET";
        let stripped = String::from_utf8(strip_invisible(content).unwrap()).unwrap();
        assert!(!stripped.contains("hidden") && !stripped.contains("also") && !stripped.contains("next"), "{stripped}");
        assert!(stripped.contains("(shown) Tj") && stripped.contains("T*") && stripped.contains("/Im0 Do"), "{stripped}");
        assert_eq!(strip_invisible(b"BT /F1 12 Tf (shown) Tj ET"), None, "nothing invisible: left as it is");
    }

    #[test]
    fn codes_are_utf16_and_the_cmap_covers_them() {
        assert_eq!(utf16_units("Số"), vec![0x0053, 0x1ED1]);
        assert_eq!(utf16_units("😀"), vec![0xFFFD]);
        let cmap = to_unicode_cmap();
        assert!(cmap.contains("<1E00> <1EFF> <1E00>"));
        assert!(!cmap.contains("<D800>"));
    }

    #[test]
    fn words_fill_their_boxes_on_one_baseline_per_line() {
        let word = |text: &str, x, line| Word { text: text.into(), conf: 90.0, x, y: 100, w: 80, h: 20, line };
        let page = PageText {
            page: 1,
            width: 1000,
            height: 1000,
            dpi: 144.0,
            quarter_turns: 0,
            skew: 0.0,
            confidence: 90.0,
            no_text: false,
            text: String::new(),
            words: vec![word("Hà", 100, 0), word("Nội", 200, 0)],
            orientation: Default::default(),
            source: Default::default(),
            unread: None,
            reread: Vec::new(),
        };
        let layer = text_layer(&page, 1000, 0.5, "F0", IDENTITY);
        // the first word spans to the next one and carries the space: 3 units of 5 pt at 0.5
        assert!(layer.contains("/F0 10.00 Tf 333.33 Tz 1 0 0 1 50.00 440.00 Tm <004800E00020> Tj"), "{layer}");
        assert!(layer.contains("<004E1ED90069> Tj"), "{layer}");
    }
}
