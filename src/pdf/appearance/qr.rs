//! A QR code drawn as vector squares in an appearance stream, so that it stays sharp at any
//! zoom and adds no image to the signed revision.

use super::PdfError;
use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border on each side; the standard asks for four.
const QUIET: usize = 4;

/// The modules of `text` encoded at error correction level M (15 % of the code may be lost):
/// `(side, dark)`, row by row from the top.
pub(super) fn modules(text: &str) -> Result<(usize, Vec<bool>), PdfError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Appearance(format!("verification link as a QR code: {e}")))?;
    let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
    Ok((code.width(), dark))
}

/// Content-stream operators that draw `text`'s QR code, border included, as a `side`-point
/// square with its lower left corner at `(x, y)`: white ground, black modules.
pub(super) fn draw(text: &str, x: f32, y: f32, side: f32) -> Result<String, PdfError> {
    let (width, dark) = modules(text)?;
    let total = width + 2 * QUIET;
    let unit = side / total as f32;
    let mut ops = format!("q {unit:.4} 0 0 {unit:.4} {x:.2} {y:.2} cm 1 g 0 0 {total} {total} re f 0 g\n");
    for row in 0..width {
        // runs of dark modules in a row become one rectangle each
        let mut col = 0;
        while col < width {
            if !dark[row * width + col] {
                col += 1;
                continue;
            }
            let start = col;
            while col < width && dark[row * width + col] {
                col += 1;
            }
            let top = total - QUIET - row - 1;
            ops.push_str(&format!("{} {top} {} 1 re\n", start + QUIET, col - start));
        }
    }
    ops.push_str("f Q\n");
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_becomes_a_square_code_with_its_finder_patterns() {
        let (width, dark) = modules("https://motcua.example.gov.vn/#/xac-minh/kq-0123abcd").unwrap();
        assert_eq!(dark.len(), width * width);
        assert!((21..=57).contains(&width), "{width}");
        // the top left finder pattern: a dark 7x7 ring around a light ring and a dark 3x3 core
        let at = |r: usize, c: usize| dark[r * width + c];
        assert!((0..7).all(|i| at(0, i) && at(6, i) && at(i, 0) && at(i, 6)));
        assert!((1..6).all(|i| !at(1, i) && !at(5, i)));
        assert!(at(3, 3) && at(2, 4));
    }

    #[test]
    fn the_drawing_fills_only_inside_its_square() {
        let ops = draw("kq-1", 10.0, 20.0, 60.0).unwrap();
        assert!(ops.starts_with("q ") && ops.ends_with("f Q\n"), "{ops}");
        assert!(ops.contains(" 10.00 20.00 cm"));
        let (width, _) = modules("kq-1").unwrap();
        let total = (width + 2 * QUIET) as i64;
        for line in ops.lines().filter(|l| l.ends_with(" re") && !l.contains(" g")) {
            let v: Vec<i64> = line.split(' ').take(4).map(|n| n.parse().unwrap()).collect();
            assert!(v[0] >= QUIET as i64 && v[0] + v[2] <= total - QUIET as i64 && v[1] >= QUIET as i64, "{line}");
        }
    }
}
