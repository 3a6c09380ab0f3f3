//! One Tesseract engine: initialised once per thread, reused for every page.

use std::ffi::CString;
use tesseract::plumbing::TessBaseApi;

/// A recognised word: its text (NFC), confidence 0-100 and box in page pixels.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Word {
    pub text: String,
    pub conf: f32,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Line number on the page, in reading order, for rebuilding lines.
    pub line: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("tesseract cannot load language {0:?}: is its traineddata installed (tesseract-ocr-vie)?")]
    Init(String),
    #[error("tesseract refused the page: {0}")]
    Page(String),
}

pub struct Engine {
    api: TessBaseApi,
    lang: String,
}

impl Engine {
    /// Loads `lang` (e.g. `vie` or `vie+eng`) from the system tessdata.
    pub fn new(lang: &str) -> Result<Engine, EngineError> {
        let init = || EngineError::Init(lang.to_owned());
        let c_lang = CString::new(lang).map_err(|_| init())?;
        let mut api = TessBaseApi::create();
        api.init_2(None, Some(&c_lang)).map_err(|_| init())?;
        let mut set = |name: &str, value: &str| -> Result<(), EngineError> {
            let (name, value) = (CString::new(name).map_err(|_| init())?, CString::new(value).map_err(|_| init())?);
            api.set_variable(&name, &value).map_err(|_| init())
        };
        // Scans are dark text on light paper; the inverted-text pass only costs time.
        set("tessedit_do_invert", "0")?;
        // Pages come grey; layout analysis thresholds them with Sauvola (local) rather than
        // one global Otsu level, which fails under uneven lighting and drops isolated titles.
        set("thresholding_method", "2")?;
        // The API defaults to one uniform block; documents need layout analysis, as the CLI does.
        api.set_page_seg_mode(tesseract::PageSegMode::PsmAuto.as_tess_page_seg_mode());
        Ok(Engine { api, lang: lang.to_owned() })
    }

    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Recognises an 8-bit grayscale page at `dpi` and returns its words in reading order.
    pub fn recognise(&mut self, pixels: &[u8], width: u32, height: u32, dpi: u32) -> Result<Vec<Word>, EngineError> {
        let page = |e: &dyn std::fmt::Display| EngineError::Page(e.to_string());
        let (w, h) = (i32::try_from(width).map_err(|e| page(&e))?, i32::try_from(height).map_err(|e| page(&e))?);
        self.api.set_image(pixels, w, h, 1, w).map_err(|e| page(&e))?;
        self.api.set_source_resolution(dpi.clamp(70, 1200) as i32);
        self.api.recognize().map_err(|e| page(&e))?;
        let tsv = self.api.get_tsv_text(0).map_err(|e| page(&e))?;
        Ok(parse_tsv(&tsv.as_ref().to_string_lossy()))
    }
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

/// The page text: words joined by spaces, lines by newlines.
pub fn text_of(words: &[Word]) -> String {
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push(if words[i - 1].line == word.line { ' ' } else { '\n' });
        }
        text.push_str(&word.text);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

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
