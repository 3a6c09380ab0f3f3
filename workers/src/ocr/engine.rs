//! One Tesseract engine: initialised once per thread, reused for every page.

use std::ffi::{CStr, CString};
use tesseract::plumbing::leptonica_plumbing::leptonica_sys as lept;
use tesseract::plumbing::tesseract_sys as tess;

pub use sohoa_protocol::custody::{text_of, EngineInfo, Word};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("tesseract cannot load language {0:?}: is its traineddata installed (tesseract-ocr-vie)?")]
    Init(String),
    #[error("tesseract refused the page: {0}")]
    Page(String),
}

/// Tesseract's C API handle. The engine talks to the C API itself because it hands
/// Tesseract two images of one page, which the wrapper crates cannot: the binary image
/// that layout analysis segments, and the grey image the line recogniser reads.
struct Api(*mut tess::TessBaseAPI);

// SAFETY: a TessBaseAPI may move between threads; the engine is used by one thread at a time
// (`&mut self` on every call).
unsafe impl Send for Api {}

impl Drop for Api {
    fn drop(&mut self) {
        // SAFETY: the handle came from TessBaseAPICreate and is deleted once.
        unsafe { tess::TessBaseAPIDelete(self.0) }
    }
}

/// A Leptonica image, destroyed on drop unless handed over to Tesseract.
struct Pix(*mut lept::Pix);

impl Drop for Pix {
    fn drop(&mut self) {
        // SAFETY: the image came from pixCreate and is still ours.
        unsafe { lept::pixDestroy(&mut self.0) }
    }
}

impl Pix {
    /// A zeroed `depth`-bit image; `fill` writes each row's 32-bit words (Leptonica keeps the
    /// first pixel of a word in its high bits).
    fn new(width: u32, height: u32, depth: i32, dpi: u32, fill: impl Fn(usize, &mut [u32])) -> Result<Pix, EngineError> {
        let too_big = || EngineError::Page(format!("a {width}x{height} page is too large"));
        let (w, h) = (i32::try_from(width).map_err(|_| too_big())?, i32::try_from(height).map_err(|_| too_big())?);
        // SAFETY: pixCreate returns null or an image it owns, with `wpl * height` words of data.
        let pix = Pix(unsafe { lept::pixCreate(w, h, depth) });
        if pix.0.is_null() {
            return Err(too_big());
        }
        let dpi = dpi as i32;
        // SAFETY: the image is valid and no other reference to its data exists.
        let (wpl, words) = unsafe {
            lept::pixSetResolution(pix.0, dpi, dpi);
            let wpl = lept::pixGetWpl(pix.0) as usize;
            (wpl, std::slice::from_raw_parts_mut(lept::pixGetData(pix.0), wpl * height as usize))
        };
        for (y, row) in words.chunks_exact_mut(wpl.max(1)).enumerate() {
            fill(y, row);
        }
        Ok(pix)
    }

    /// Gives the image to a callee that destroys it.
    fn into_raw(self) -> *mut lept::Pix {
        let raw = self.0;
        std::mem::forget(self);
        raw
    }
}

/// The page as Leptonica's 8-bit grey.
fn grey_pix(pixels: &[u8], width: u32, height: u32, dpi: u32) -> Result<Pix, EngineError> {
    let w = width as usize;
    Pix::new(width, height, 8, dpi, |y, words| {
        for (four, word) in pixels[y * w..(y + 1) * w].chunks(4).zip(words) {
            let mut bytes = [0u8; 4];
            bytes[..four.len()].copy_from_slice(four);
            *word = u32::from_be_bytes(bytes);
        }
    })
}

/// The page as Leptonica's 1-bit image: ink (0 in `binary`) is a set bit.
fn binary_pix(binary: &[u8], width: u32, height: u32, dpi: u32) -> Result<Pix, EngineError> {
    let w = width as usize;
    Pix::new(width, height, 1, dpi, |y, words| {
        for (bits, word) in binary[y * w..(y + 1) * w].chunks(32).zip(words) {
            *word = bits.iter().enumerate().filter(|(_, &p)| p == 0).fold(0, |acc, (i, _)| acc | (0x8000_0000 >> i));
        }
    })
}

pub struct Engine {
    api: Api,
    lang: String,
    /// Read on first asking: hashing the model files costs a page's worth of a small scan.
    info: std::cell::OnceCell<EngineInfo>,
    /// The model that reads the figures of an owner's id a second time, loaded on first use.
    figures: Option<Box<Engine>>,
}

/// The model whose reading of an id's figures is set beside the page language's: Tesseract's
/// English model reads the figures of faces whose 3, 0 or 8 the Vietnamese model takes for
/// others (docs/decisions.md, "An owner's id is read a second time by the English model").
pub const FIGURES_MODEL: &str = "eng";

impl Engine {
    /// Loads `lang` (e.g. `vie` or `vie+eng`) from the system tessdata.
    pub fn new(lang: &str) -> Result<Engine, EngineError> {
        let init = || EngineError::Init(lang.to_owned());
        let c_lang = CString::new(lang).map_err(|_| init())?;
        // SAFETY: create returns a fresh handle, owned by `api` from here on.
        let api = Api(unsafe { tess::TessBaseAPICreate() });
        // SAFETY: valid handle and NUL-terminated strings; a null datapath means the default.
        if api.0.is_null() || unsafe { tess::TessBaseAPIInit3(api.0, std::ptr::null(), c_lang.as_ptr()) } != 0 {
            return Err(init());
        }
        let set = |name: &str, value: &str| -> Result<(), EngineError> {
            let (name, value) = (CString::new(name).map_err(|_| init())?, CString::new(value).map_err(|_| init())?);
            // SAFETY: valid handle and strings; Tesseract copies the value.
            match unsafe { tess::TessBaseAPISetVariable(api.0, name.as_ptr(), value.as_ptr()) } {
                0 => Err(init()),
                _ => Ok(()),
            }
        };
        // Scans are dark text on light paper; the inverted-text pass only costs time.
        set("tessedit_do_invert", "0")?;
        // Tesseract's progress chatter ("Detected 12 diacritics") is no message for an operator.
        set("debug_file", "/dev/null")?;
        // The API defaults to one uniform block; documents need layout analysis, as the CLI does.
        // SAFETY: valid handle.
        unsafe { tess::TessBaseAPISetPageSegMode(api.0, tess::TessPageSegMode_PSM_AUTO) };
        Ok(Engine { api, lang: lang.to_owned(), info: std::cell::OnceCell::new(), figures: None })
    }

    /// The engine that reads an id's figures a second time (`FIGURES_MODEL`), loaded once.
    pub fn figures(&mut self) -> Result<&mut Engine, EngineError> {
        if self.figures.is_none() {
            self.figures = Some(Box::new(Engine::new(FIGURES_MODEL)?));
        }
        Ok(self.figures.as_deref_mut().expect("loaded above"))
    }

    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Tesseract's version and the digest of each language model it loaded, for the record.
    pub fn info(&self) -> &EngineInfo {
        self.info.get_or_init(|| engine_info(&self.api, &self.lang))
    }

    /// Recognises a page at `dpi` and returns its words in reading order: layout analysis
    /// segments `binary` (0 ink, 255 paper), the line recogniser reads `grey`, both 8-bit
    /// images `width` x `height`.
    pub fn recognise(&mut self, grey: &[u8], binary: &[u8], width: u32, height: u32, dpi: u32) -> Result<Vec<Word>, EngineError> {
        self.read(grey, binary, width, height, dpi)
    }

    /// Recognises a piece of a page as one block of lines running along the rows, as
    /// `recognise` does otherwise. Layout analysis would find text lines running down the
    /// page and read them turned, which hides the very thing an orientation check asks.
    pub fn recognise_block(&mut self, grey: &[u8], binary: &[u8], width: u32, height: u32, dpi: u32) -> Result<Vec<Word>, EngineError> {
        // SAFETY: valid handle.
        unsafe { tess::TessBaseAPISetPageSegMode(self.api.0, tess::TessPageSegMode_PSM_SINGLE_BLOCK) };
        let words = self.read(grey, binary, width, height, dpi);
        // SAFETY: valid handle.
        unsafe { tess::TessBaseAPISetPageSegMode(self.api.0, tess::TessPageSegMode_PSM_AUTO) };
        words
    }

    /// Recognises a piece of a page as one line of text (Tesseract's single-line mode):
    /// a value read again on its own, without the page's layout around it.
    pub fn recognise_line(&mut self, grey: &[u8], binary: &[u8], width: u32, height: u32, dpi: u32) -> Result<Vec<Word>, EngineError> {
        // SAFETY: valid handle.
        unsafe { tess::TessBaseAPISetPageSegMode(self.api.0, tess::TessPageSegMode_PSM_SINGLE_LINE) };
        let words = self.read(grey, binary, width, height, dpi);
        // SAFETY: valid handle.
        unsafe { tess::TessBaseAPISetPageSegMode(self.api.0, tess::TessPageSegMode_PSM_AUTO) };
        words
    }

    fn read(&mut self, grey: &[u8], binary: &[u8], width: u32, height: u32, dpi: u32) -> Result<Vec<Word>, EngineError> {
        let size = width as usize * height as usize;
        if grey.len() < size || binary.len() < size || size == 0 {
            return Err(EngineError::Page(format!("a {width}x{height} page needs {size} pixels")));
        }
        let dpi = dpi.clamp(70, 1200);
        let layout = binary_pix(binary, width, height, dpi)?;
        let read = grey_pix(grey, width, height, dpi)?;
        let h = self.api.0;
        // SAFETY: valid handle and images. SetImage2 copies `layout` (dropped here after);
        // SetInputImage takes ownership of `read` and destroys it with the next page.
        let (done, tsv) = unsafe {
            tess::TessBaseAPISetImage2(h, layout.0);
            tess::TessBaseAPISetSourceResolution(h, dpi as i32);
            tess::TessBaseAPISetInputImage(h, read.into_raw());
            let done = tess::TessBaseAPIRecognize(h, std::ptr::null_mut());
            (done, if done == 0 { tess::TessBaseAPIGetTsvText(h, 0) } else { std::ptr::null_mut() })
        };
        if done != 0 || tsv.is_null() {
            return Err(EngineError::Page("recognition failed".into()));
        }
        // SAFETY: a NUL-terminated string from Tesseract, freed once with TessDeleteText.
        let words = parse_tsv(&unsafe { CStr::from_ptr(tsv) }.to_string_lossy());
        unsafe { tess::TessDeleteText(tsv) };
        Ok(words)
    }
}

/// The version Tesseract reports and the SHA-256 of each `<lang>.traineddata` it loaded or
/// loads for an id's figures (`vie:<hex>+eng:<hex>`; a model it cannot read again is named
/// with an empty digest).
fn engine_info(api: &Api, lang: &str) -> EngineInfo {
    use sha2::{Digest as _, Sha256};
    // SAFETY: TessVersion returns a static NUL-terminated string; GetDatapath a string owned
    // by the handle, valid while it lives, copied here at once.
    let (version, datapath) = unsafe {
        let version = CStr::from_ptr(tess::TessVersion()).to_string_lossy().into_owned();
        let path = tess::TessBaseAPIGetDatapath(api.0);
        (version, if path.is_null() { String::new() } else { CStr::from_ptr(path).to_string_lossy().into_owned() })
    };
    let model = lang
        .split('+')
        .chain((!lang.split('+').any(|l| l == FIGURES_MODEL)).then_some(FIGURES_MODEL))
        .map(|l| {
            let file = std::path::Path::new(&datapath).join(format!("{l}.traineddata"));
            let digest = std::fs::read(&file).map(|bytes| hex::encode(Sha256::digest(bytes))).unwrap_or_default();
            format!("{l}:{digest}")
        })
        .collect::<Vec<_>>()
        .join("+");
    EngineInfo { name: "tesseract".into(), version, language: lang.to_owned(), model }
}

/// Reads Tesseract's TSV (level page block par line word left top width height conf text),
/// keeping word rows (level 5) with text.
fn parse_tsv(tsv: &str) -> Vec<Word> {
    use unicode_normalization::UnicodeNormalization;
    let mut words = Vec::new();
    let mut line_key = None;
    let mut line = 0u32;
    for row in tsv.lines() {
        let cols: Vec<&str> = row.splitn(12, '\t').collect();
        if cols.len() < 12 || cols[0] != "5" {
            continue;
        }
        let text: String = cols[11].trim().nfc().collect();
        let num = |i: usize| cols[i].parse::<u32>().ok();
        let (Some(x), Some(y), Some(w), Some(h)) = (num(6), num(7), num(8), num(9)) else { continue };
        if text.is_empty() {
            continue;
        }
        let key = (cols[2], cols[3], cols[4]);
        if line_key != Some(key) {
            if line_key.is_some() {
                line += 1;
            }
            line_key = Some(key);
        }
        let conf = cols[10].parse::<f32>().unwrap_or(0.0).max(0.0);
        words.push(Word { text, conf, x, y, w, h, line });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(pix: &Pix, x: i32, y: i32) -> u32 {
        let mut value = 0;
        // SAFETY: a valid image and an in-range point
        assert_eq!(unsafe { lept::pixGetPixel(pix.0, x, y, &mut value) }, 0);
        value
    }

    #[test]
    fn images_reach_leptonica_pixel_for_pixel() {
        // 37 wide: rows of both images end inside a 32-bit word
        let (w, h) = (37u32, 3u32);
        let grey: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
        let binary: Vec<u8> = (0..w * h).map(|i| if i % 3 == 0 || i % 37 == 31 { 0 } else { 255 }).collect();
        let (g, b) = (grey_pix(&grey, w, h, 200).unwrap(), binary_pix(&binary, w, h, 200).unwrap());
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) as usize;
                assert_eq!(pixel(&g, x as i32, y as i32), u32::from(grey[i]), "grey at {x},{y}");
                assert_eq!(pixel(&b, x as i32, y as i32), u32::from(binary[i] == 0), "ink at {x},{y}");
            }
        }
        let mut engine = Engine::new("vie").unwrap();
        assert!(engine.recognise(&grey, &binary[..5], w, h, 200).is_err(), "a short binary image is refused");
    }

    #[test]
    fn tsv_words_become_lines_in_nfc() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\tGIA\u{302}\u{301}Y\n\
                   5\t1\t1\t1\t1\t2\t45\t20\t30\t12\t91\tsinh\n\
                   5\t1\t1\t1\t2\t1\t10\t40\t30\t12\t88\tSố:\n\
                   5\t1\t1\t1\t2\t2\t45\t40\t30\t12\t-1\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 3);
        assert_eq!(words[0].text, "GIẤY");
        assert_eq!((words[2].line, words[2].conf), (1, 88.0));
        assert_eq!(text_of(&words), "GIẤY sinh\nSố:");
    }
}
