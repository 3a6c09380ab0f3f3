//! Seeds for the upload decoder fuzz targets (not a test): each scan given, made small, in the
//! encodings a desk's scanners write. `scripts/fuzz.sh` runs it over `sohoa-worker samples`.
//!
//!   fuzz_seeds OUT_DIR SCAN...     # writes OUT_DIR/{png,jpeg,tiff,pdf}/NAME-VARIANT.EXT
//!
//! PNG: gray, RGB, RGBA, 16-bit gray, gray with a pHYs resolution. JPEG: gray, RGB, with a
//! JFIF density. TIFF: gray and RGB, uncompressed, LZW, Deflate and PackBits, and two pages.
//! PDF: one image per page, DCT (JPEG), Flate with and without PNG predictors, 1-bit gray,
//! and two pages.

use anyhow::Context;
use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{DynamicImage, ImageFormat};
use lopdf::{dictionary, Document, Object, Stream};
use std::io::{Cursor, Write};
use std::path::PathBuf;
use tiff::encoder::{colortype, Compression, DeflateLevel, TiffEncoder};

/// Wide enough for text to stay text, small enough for thousands of decodes a second.
const WIDTH: u32 = 240;

fn main() -> anyhow::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (out, scans) = args.split_first().context("usage: fuzz_seeds OUT_DIR SCAN...")?;
    for format in ["png", "jpeg", "tiff", "pdf"] {
        std::fs::create_dir_all(out.join(format))?;
    }
    let mut written = 0;
    for scan in scans {
        let image = image::open(scan).with_context(|| format!("reading {}", scan.display()))?;
        let height = (u64::from(image.height()) * u64::from(WIDTH) / u64::from(image.width().max(1))).max(1) as u32;
        let small = image.resize_exact(WIDTH, height, image::imageops::FilterType::Triangle);
        let name = scan.file_stem().and_then(|s| s.to_str()).unwrap_or("scan");
        for (variant, format, bytes) in encodings(&small)? {
            std::fs::write(out.join(format).join(format!("{name}-{variant}.{format}")), bytes)?;
            written += 1;
        }
    }
    println!("{written} seeds in {}", out.display());
    Ok(())
}

type Seed = (&'static str, &'static str, Vec<u8>);

fn encodings(image: &DynamicImage) -> anyhow::Result<Vec<Seed>> {
    let gray = DynamicImage::ImageLuma8(image.to_luma8());
    let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
    let gray_png = encode(&gray, ImageFormat::Png)?;
    let gray_jpeg = encode(&gray, ImageFormat::Jpeg)?;
    let rgb_jpeg = encode(&rgb, ImageFormat::Jpeg)?;
    let mut dense_jpeg = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut dense_jpeg, 60);
    encoder.set_pixel_density(PixelDensity::dpi(150));
    encoder.encode_image(&gray)?;
    let (width, height) = (gray.width(), gray.height());
    Ok(vec![
        ("gray", "png", gray_png.clone()),
        ("rgb", "png", encode(&rgb, ImageFormat::Png)?),
        ("rgba", "png", encode(&DynamicImage::ImageRgba8(image.to_rgba8()), ImageFormat::Png)?),
        ("gray16", "png", encode(&DynamicImage::ImageLuma16(image.to_luma16()), ImageFormat::Png)?),
        ("phys", "png", with_phys(&gray_png, 150)),
        ("gray", "jpeg", gray_jpeg.clone()),
        ("rgb", "jpeg", rgb_jpeg.clone()),
        ("dpi", "jpeg", dense_jpeg),
        ("gray", "tiff", tiff_pages(&[&gray], Compression::Uncompressed)?),
        ("rgb-lzw", "tiff", tiff_pages(&[&rgb], Compression::Lzw)?),
        ("gray-deflate", "tiff", tiff_pages(&[&gray], Compression::Deflate(DeflateLevel::Balanced))?),
        ("gray-packbits", "tiff", tiff_pages(&[&gray], Compression::Packbits)?),
        ("two-pages", "tiff", tiff_pages(&[&gray, &rgb], Compression::Lzw)?),
        ("dct", "pdf", pdf(&[PdfImage::Dct { data: rgb_jpeg, width, height, colors: 3 }])?),
        ("flate", "pdf", pdf(&[PdfImage::Flate { data: gray.as_bytes().to_vec(), width, height, bits: 8, predicted: false }])?),
        ("predicted", "pdf", pdf(&[PdfImage::Flate { data: png_rows(gray.as_bytes(), width), width, height, bits: 8, predicted: true }])?),
        ("bilevel", "pdf", pdf(&[PdfImage::Flate { data: bilevel(&gray), width, height, bits: 1, predicted: false }])?),
        (
            "two-pages",
            "pdf",
            pdf(&[
                PdfImage::Dct { data: gray_jpeg, width, height, colors: 1 },
                PdfImage::Flate { data: gray.as_bytes().to_vec(), width, height, bits: 8, predicted: false },
            ])?,
        ),
    ])
}

fn encode(image: &DynamicImage, format: ImageFormat) -> anyhow::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format)?;
    Ok(out.into_inner())
}

/// The PNG with a pHYs chunk (pixels per metre) after IHDR, which the worker reads as DPI.
fn with_phys(png: &[u8], dpi: u32) -> Vec<u8> {
    let per_metre = (f64::from(dpi) / 0.0254).round() as u32;
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&per_metre.to_be_bytes());
    body.extend_from_slice(&per_metre.to_be_bytes());
    body.push(1);
    let mut crc = flate2::Crc::new();
    crc.update(&body);
    let ihdr_end = 8 + 4 + 4 + 13 + 4;
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

fn tiff_pages(pages: &[&DynamicImage], compression: Compression) -> anyhow::Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    let mut tiff = TiffEncoder::new(&mut out)?.with_compression(compression);
    for page in pages {
        let (w, h) = (page.width(), page.height());
        match page {
            DynamicImage::ImageRgb8(p) => tiff.write_image::<colortype::RGB8>(w, h, p)?,
            p => tiff.write_image::<colortype::Gray8>(w, h, p.as_bytes())?,
        }
    }
    Ok(out.into_inner())
}

/// Gray rows, each behind PNG filter byte 2 (up), as PDF predictor 12 stores them.
fn png_rows(gray: &[u8], width: u32) -> Vec<u8> {
    let width = width as usize;
    let mut out = Vec::with_capacity(gray.len() + gray.len() / width.max(1));
    let mut prev = vec![0u8; width];
    for row in gray.chunks(width) {
        out.push(2);
        out.extend(row.iter().zip(&prev).map(|(c, p)| c.wrapping_sub(*p)));
        prev = row.to_vec();
    }
    out
}

/// 1-bit rows padded to bytes, a set bit black, as DeviceGray with BitsPerComponent 1 reads.
fn bilevel(gray: &DynamicImage) -> Vec<u8> {
    let gray = gray.to_luma8();
    let row_bytes = gray.width().div_ceil(8) as usize;
    let mut out = vec![0u8; row_bytes * gray.height() as usize];
    for (x, y, p) in gray.enumerate_pixels() {
        if p.0[0] >= 128 {
            out[y as usize * row_bytes + x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
    out
}

enum PdfImage {
    Dct { data: Vec<u8>, width: u32, height: u32, colors: u8 },
    Flate { data: Vec<u8>, width: u32, height: u32, bits: u8, predicted: bool },
}

/// An image-only PDF, as scanners write them: one page per image, the image covering it.
fn pdf(images: &[PdfImage]) -> anyhow::Result<Vec<u8>> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for image in images {
        let (stream, width, height) = match image {
            PdfImage::Dct { data, width, height, colors } => {
                let space = if *colors == 1 { "DeviceGray" } else { "DeviceRGB" };
                let dict = dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => *width, "Height" => *height,
                "ColorSpace" => space, "BitsPerComponent" => 8, "Filter" => "DCTDecode" };
                (Stream::new(dict, data.clone()), *width, *height)
            }
            PdfImage::Flate { data, width, height, bits, predicted } => {
                let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                z.write_all(data)?;
                let mut dict = dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => *width, "Height" => *height,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => i64::from(*bits), "Filter" => "FlateDecode" };
                if *predicted {
                    dict.set("DecodeParms", dictionary! { "Predictor" => 12, "Colors" => 1, "BitsPerComponent" => 8, "Columns" => *width });
                }
                (Stream::new(dict, z.finish()?).with_compression(false), *width, *height)
            }
        };
        let image_id = doc.add_object(stream);
        // the page is the image at 150 dpi
        let (w, h) = (f64::from(width) * 72.0 / 150.0, f64::from(height) * 72.0 / 150.0);
        let content = format!("q {w:.2} 0 0 {h:.2} 0 0 cm /Im0 Do Q").into_bytes();
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(w as f32), Object::Real(h as f32)],
            "Contents" => content_id,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
        });
        kids.push(page.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}
