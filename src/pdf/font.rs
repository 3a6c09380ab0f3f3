//! Vietnamese text in PDF: a Type0 font (Identity-H) over a CIDFontType2 with an embedded
//! TrueType subset and a ToUnicode CMap, so the text renders anywhere and extracts as Unicode.

use super::update::Update;
use super::PdfError;
use lopdf::{Dictionary, Object, ObjectId, Stream};
use std::collections::BTreeMap;
use std::io::Write;
use subsetter::GlyphRemapper;

/// Fonts tried in order; `SOHOA_FONT` overrides. DejaVu Sans covers Vietnamese and ships in
/// Debian's fonts-dejavu-core; Liberation Serif is metric-compatible with Times New Roman.
const CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
];
/// Largest font file read.
const MAX_FONT_BYTES: u64 = 32 << 20;

/// A TrueType font being used: glyphs are collected as text is encoded, then subset.
pub(crate) struct FontUse {
    data: Vec<u8>,
    name: String,
    remapper: GlyphRemapper,
    /// New glyph id -> (text it stands for, advance in font units).
    used: BTreeMap<u16, (String, u16)>,
}

impl FontUse {
    /// Loads the first available font.
    pub fn load() -> Result<Self, PdfError> {
        let env = std::env::var("SOHOA_FONT").ok();
        let path = env
            .iter()
            .map(String::as_str)
            .chain(CANDIDATES)
            .find(|p| std::path::Path::new(p).is_file())
            .ok_or_else(|| PdfError::Appearance("no TrueType font found: install fonts-dejavu-core or set SOHOA_FONT".into()))?;
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX);
        if len > MAX_FONT_BYTES {
            return Err(PdfError::Appearance(format!("{path}: font larger than {MAX_FONT_BYTES} bytes")));
        }
        let data = std::fs::read(path).map_err(|e| PdfError::Appearance(format!("{path}: {e}")))?;
        let face = ttf_parser::Face::parse(&data, 0).map_err(|e| PdfError::Appearance(format!("{path}: {e}")))?;
        let name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .unwrap_or_else(|| "SohoaFont".to_string())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        Ok(FontUse { data, name, remapper: GlyphRemapper::new(), used: BTreeMap::new() })
    }

    fn face(&self) -> Result<ttf_parser::Face<'_>, PdfError> {
        ttf_parser::Face::parse(&self.data, 0).map_err(|e| PdfError::Appearance(e.to_string()))
    }

    /// Width of `text` at `size` points, without recording glyphs.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(face) = self.face() else { return 0.0 };
        let units: u32 = text.chars().map(|c| face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).unwrap_or(0) as u32).sum();
        units as f32 * size / face.units_per_em() as f32
    }

    /// How far ink reaches above and below the baseline for `text`, in ems (both positive):
    /// at least the font's ascender and descender, more where a stacked Vietnamese accent
    /// (Ấ, Ủ) rises above the ascender, so a line placed by these never leaves its box.
    pub fn extent(&self, text: &str) -> (f32, f32) {
        let Ok(face) = self.face() else { return (1.0, 0.25) };
        let (mut top, mut bottom) = (face.ascender() as i32, -(face.descender() as i32));
        for c in text.chars() {
            if let Some(b) = face.glyph_index(c).and_then(|g| face.glyph_bounding_box(g)) {
                top = top.max(b.y_max as i32);
                bottom = bottom.max(-(b.y_min as i32));
            }
        }
        let em = face.units_per_em() as f32;
        (top as f32 / em, bottom as f32 / em)
    }

    /// The hex string of 2-byte glyph ids for `text` (for `Tj`), recording the glyphs used.
    pub fn encode(&mut self, text: &str) -> Result<String, PdfError> {
        let mut glyphs = Vec::new();
        {
            let face = self.face()?;
            for c in text.chars() {
                let gid = face.glyph_index(c).map(|g| g.0).unwrap_or(0);
                let advance = face.glyph_hor_advance(ttf_parser::GlyphId(gid)).unwrap_or(0);
                glyphs.push((c, gid, advance));
            }
        }
        let mut hex = String::with_capacity(text.len() * 4 + 2);
        hex.push('<');
        for (c, gid, advance) in glyphs {
            let new = self.remapper.remap(gid);
            self.used.entry(new).or_insert_with(|| (c.to_string(), advance));
            hex.push_str(&format!("{new:04X}"));
        }
        hex.push('>');
        Ok(hex)
    }

    /// Writes the subset font and its dictionaries; returns the Type0 font's id.
    pub fn write(self, update: &mut Update) -> Result<ObjectId, PdfError> {
        let face = self.face()?;
        let scale = 1000.0 / face.units_per_em() as f32;
        let subset = subsetter::subset(&self.data, 0, &self.remapper).map_err(|e| PdfError::Appearance(format!("font subset: {e}")))?;
        // A subset font's name starts with six letters that name the subset.
        let digest = ring::digest::digest(&ring::digest::SHA256, &subset);
        let tag: String = digest.as_ref()[..6].iter().map(|b| (b'A' + b % 26) as char).collect();
        let base_font = format!("{tag}+{}", self.name);

        let file_id = update.alloc();
        let mut file_dict = Dictionary::new();
        file_dict.set("Length1", subset.len() as i64);
        file_dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        update.put(file_id, &Object::Stream(Stream::new(file_dict, deflate(&subset))));

        let bbox = face.global_bounding_box();
        let descriptor_id = update.alloc();
        let descriptor = Dictionary::from_iter([
            ("Type", Object::Name(b"FontDescriptor".to_vec())),
            ("FontName", Object::Name(base_font.clone().into_bytes())),
            ("Flags", Object::Integer(32)),
            (
                "FontBBox",
                Object::Array([bbox.x_min, bbox.y_min, bbox.x_max, bbox.y_max].iter().map(|v| Object::Real(*v as f32 * scale)).collect()),
            ),
            ("ItalicAngle", Object::Integer(0)),
            ("Ascent", Object::Real(face.ascender() as f32 * scale)),
            ("Descent", Object::Real(face.descender() as f32 * scale)),
            ("CapHeight", Object::Real(face.capital_height().unwrap_or(face.ascender()) as f32 * scale)),
            ("StemV", Object::Integer(80)),
            ("FontFile2", Object::Reference(file_id)),
        ]);
        update.put(descriptor_id, &Object::Dictionary(descriptor));

        let mut widths = Vec::new();
        for (gid, (_, advance)) in &self.used {
            widths.push(Object::Integer(*gid as i64));
            widths.push(Object::Array(vec![Object::Real(*advance as f32 * scale)]));
        }
        let cid_id = update.alloc();
        let cid = Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"CIDFontType2".to_vec())),
            ("BaseFont", Object::Name(base_font.clone().into_bytes())),
            (
                "CIDSystemInfo",
                Object::Dictionary(Dictionary::from_iter([
                    ("Registry", Object::string_literal("Adobe")),
                    ("Ordering", Object::string_literal("Identity")),
                    ("Supplement", Object::Integer(0)),
                ])),
            ),
            ("FontDescriptor", Object::Reference(descriptor_id)),
            ("CIDToGIDMap", Object::Name(b"Identity".to_vec())),
            ("W", Object::Array(widths)),
        ]);
        update.put(cid_id, &Object::Dictionary(cid));

        let to_unicode_id = update.alloc();
        update.put(to_unicode_id, &Object::Stream(Stream::new(Dictionary::new(), to_unicode(&self.used).into_bytes())));

        let font_id = update.alloc();
        let font = Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"Type0".to_vec())),
            ("BaseFont", Object::Name(base_font.into_bytes())),
            ("Encoding", Object::Name(b"Identity-H".to_vec())),
            ("DescendantFonts", Object::Array(vec![Object::Reference(cid_id)])),
            ("ToUnicode", Object::Reference(to_unicode_id)),
        ]);
        update.put(font_id, &Object::Dictionary(font));
        Ok(font_id)
    }
}

/// A ToUnicode CMap mapping each 2-byte glyph code to its text (UTF-16BE).
fn to_unicode(used: &BTreeMap<u16, (String, u16)>) -> String {
    let mut s = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &String)> = used.iter().filter(|(gid, _)| **gid != 0).map(|(gid, (text, _))| (gid, text)).collect();
    // A bfchar block holds at most 100 entries.
    for chunk in entries.chunks(100) {
        s.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (gid, text) in chunk {
            let utf16: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            s.push_str(&format!("<{gid:04X}> <{utf16}>\n"));
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s
}

pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_unicode_maps_glyph_codes_to_text() {
        let used: BTreeMap<u16, (String, u16)> = [(0, (String::new(), 0)), (5, ("ệ".to_string(), 600))].into_iter().collect();
        let cmap = to_unicode(&used);
        assert!(cmap.contains("1 beginbfchar\n<0005> <1EC7>\n"));
    }
}
