//! Whether an image file holds all of its image data. Decoders conceal truncation (a JPEG
//! cut inside its scan decodes with a grey lower half), so the structure is walked first.

use std::io::Cursor;

/// A PNG whose chunks all lie inside the file with correct CRCs, ending with IEND.
pub(super) fn png(bytes: &[u8]) -> Result<(), String> {
    let mut pos = 8;
    let mut first = true;
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(format!("the file ends at byte {} before its IEND chunk", bytes.len()));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let name = String::from_utf8_lossy(kind).into_owned();
        let Some(chunk) = pos.checked_add(12 + len).and_then(|end| bytes.get(pos + 4..end)) else {
            return Err(format!("chunk {name:?} at byte {pos} runs past the end of the file"));
        };
        let (typed, crc) = chunk.split_at(chunk.len() - 4);
        let mut sum = flate2::Crc::new();
        sum.update(typed);
        if sum.sum().to_be_bytes() != crc {
            return Err(format!("chunk {name:?} at byte {pos} fails its CRC check"));
        }
        if first && kind != b"IHDR" {
            return Err("the first chunk is not IHDR".into());
        }
        first = false;
        if kind == b"IEND" {
            return Ok(());
        }
        pos += 12 + len;
    }
}

/// A JPEG whose segments lie inside the file and whose entropy-coded data runs to an EOI
/// marker after at least one scan.
pub(super) fn jpeg(bytes: &[u8]) -> Result<(), String> {
    let truncated = || format!("the file ends at byte {} before its end-of-image marker", bytes.len());
    let mut pos = 2;
    let mut scans = 0;
    loop {
        if bytes.get(pos) != Some(&0xFF) {
            return if pos >= bytes.len() { Err(truncated()) } else { Err(format!("no marker at byte {pos}")) };
        }
        // Fill bytes: any number of 0xFF may precede a marker.
        while bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = bytes.get(pos + 1) else { return Err(truncated()) };
        match marker {
            0xD9 if scans > 0 => return Ok(()),
            0xD9 => return Err("the image ends before any scan".into()),
            0x01 | 0xD0..=0xD7 => pos += 2,
            _ => {
                let Some(len) = bytes.get(pos + 2..pos + 4).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize) else {
                    return Err(truncated());
                };
                if len < 2 || pos + 2 + len > bytes.len() {
                    return Err(format!("segment 0xFF{marker:02X} at byte {pos} runs past the end of the file"));
                }
                pos += 2 + len;
                if marker == 0xDA {
                    scans += 1;
                    pos = after_entropy_data(bytes, pos).ok_or_else(truncated)?;
                }
            }
        }
    }
}

/// The position of the first marker after entropy-coded data starting at `pos`; stuffed
/// zero bytes and restart markers belong to the data.
fn after_entropy_data(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let at = pos + bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 => pos = at + 2,
            0xFF => pos = at + 1,
            _ => return Some(at),
        }
    }
}

/// Every strip or tile of the current TIFF page lies inside the file.
pub fn tiff_page(decoder: &mut tiff::decoder::Decoder<Cursor<&[u8]>>, file_len: usize) -> Result<(), String> {
    use tiff::tags::Tag;
    let (offsets, counts) = match decoder.get_tag_u64_vec(Tag::StripOffsets) {
        Ok(offsets) => (offsets, decoder.get_tag_u64_vec(Tag::StripByteCounts)),
        Err(_) => (
            decoder.get_tag_u64_vec(Tag::TileOffsets).map_err(|_| "the page has neither strips nor tiles".to_owned())?,
            decoder.get_tag_u64_vec(Tag::TileByteCounts),
        ),
    };
    let counts = counts.map_err(|_| "the page does not give the sizes of its strips or tiles".to_owned())?;
    if counts.len() != offsets.len() {
        return Err(format!("{} strip or tile offsets but {} sizes", offsets.len(), counts.len()));
    }
    for (offset, count) in offsets.iter().zip(&counts) {
        if offset.checked_add(*count).is_none_or(|end| end > file_len as u64) {
            return Err(format!("image data at byte {offset} ({count} bytes) runs past the end of the {file_len}-byte file"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageFormat, Luma};

    fn encode(format: ImageFormat) -> Vec<u8> {
        let img = GrayImage::from_fn(64, 64, |x, y| Luma([((x * 7 + y * 3) % 255) as u8]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_whole_png_passes_and_a_cut_or_damaged_one_fails() {
        let whole = encode(ImageFormat::Png);
        png(&whole).unwrap();
        assert!(png(&whole[..whole.len() - 12]).unwrap_err().contains("IEND"), "cut just before IEND");
        assert!(png(&whole[..whole.len() - 20]).is_err());
        let mut flipped = whole.clone();
        flipped[40] ^= 1;
        assert!(png(&flipped).unwrap_err().contains("CRC"));
    }

    #[test]
    fn a_whole_jpeg_passes_and_one_cut_inside_its_scan_fails() {
        let whole = encode(ImageFormat::Jpeg);
        jpeg(&whole).unwrap();
        let mut with_trailer = whole.clone();
        with_trailer.extend_from_slice(b"\0\0trailing");
        jpeg(&with_trailer).unwrap();
        for cut in [whole.len() - 2, whole.len() - 40, whole.len() / 2, 30] {
            assert!(jpeg(&whole[..cut]).is_err(), "cut at {cut} of {}", whole.len());
        }
    }

    #[test]
    fn tiff_strips_must_lie_inside_the_file() {
        let whole = encode(ImageFormat::Tiff);
        let mut decoder = tiff::decoder::Decoder::new(Cursor::new(&whole[..])).unwrap();
        tiff_page(&mut decoder, whole.len()).unwrap();
        assert!(tiff_page(&mut decoder, 100).unwrap_err().contains("past the end"));
    }
}
