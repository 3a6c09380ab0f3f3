//! Red seals dropped from colour scans before recognition. An agency's round seal is
//! stamped in red over the signer's title, the date of issue and the name: in grey its
//! ring and star are as dark as print, layout analysis takes the whole signature block for
//! a picture and drops its text, and the ring's arcs suggest lines that turn the page. A
//! seal is red ink over two centimetres or more both ways, about round; inside its box, red
//! pixels are read from their red channel, where red ink is as light as paper and black
//! print that the seal covers stays black. Red letters elsewhere (a red heading) make a
//! wide, low box, not a round one, and are kept as they are.

use image::{DynamicImage, GrayImage, Luma};

/// A pixel is red ink when its red exceeds both its green and its blue by this much.
const RED_MARGIN: i16 = 60;
/// Red ink within `GAP_MM` of itself over at least this many millimetres across and high,
/// and about as high as wide, is a seal (a round seal is 30 to 42 mm across; a red heading
/// is wide and low).
const SEAL_MM: f32 = 22.0;
const GAP_MM: f32 = 4.0;
/// How much longer than wide a seal's box may be.
const ROUND: f32 = 1.5;
/// Pages with fewer red pixels than this share carry no seal worth looking for.
const MIN_RED_SHARE: f32 = 0.0005;

/// The page in grey, red seals dropped, for a page at `dpi`. A grey page is only converted.
pub fn grey(image: DynamicImage, dpi: f32) -> GrayImage {
    if !image.color().has_color() {
        return image.into_luma8();
    }
    let rgb = image.into_rgb8();
    let red = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0.map(i16::from);
        r - g >= RED_MARGIN && r - b >= RED_MARGIN
    };
    // one pass gives the grey page (as `imageops::grayscale` weighs the channels) and the
    // count of red pixels; most pages carry no seal and need no more
    let mut count = 0usize;
    let mut luma = vec![0u8; rgb.as_raw().len() / 3];
    for (l, p) in luma.iter_mut().zip(rgb.as_raw().chunks_exact(3)) {
        let p = image::Rgb([p[0], p[1], p[2]]);
        count += usize::from(red(&p));
        let [r, g, b] = p.0.map(u32::from);
        *l = ((2126 * r + 7152 * g + 722 * b) / 10000) as u8;
    }
    let Some(mut grey) = GrayImage::from_raw(rgb.width(), rgb.height(), luma) else {
        return image::imageops::grayscale(&rgb);
    };
    if (count as f32) < MIN_RED_SHARE * (rgb.width() as f32 * rgb.height() as f32) {
        return grey;
    }
    let mut mask = GrayImage::from_pixel(rgb.width(), rgb.height(), Luma([255]));
    for (p, m) in rgb.pixels().zip(mask.pixels_mut()) {
        if red(p) {
            m.0[0] = 0;
        }
    }
    let mm = |v: f32| (v / 25.4 * dpi).round() as u32;
    // single pixels of colour noise are no part of anything
    let parts: Vec<[u32; 4]> = super::leaders::specks(&mask, u32::MAX)
        .into_iter()
        .filter(|s| s.x1 > s.x0 || s.y1 > s.y0)
        .map(|s| [s.x0, s.y0, s.x1, s.y1])
        .collect();
    let seals = merged(parts, mm(GAP_MM)).into_iter().filter(|&[x0, y0, x1, y1]| {
        let (w, h) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
        w.min(h) >= mm(SEAL_MM) as f32 && w.max(h) <= ROUND * w.min(h)
    });
    for [x0, y0, x1, y1] in seals {
        for y in y0..=y1 {
            for x in x0..=x1 {
                let p = rgb.get_pixel(x, y);
                if red(p) {
                    grey.put_pixel(x, y, Luma([p.0[0]]));
                }
            }
        }
    }
    grey
}

/// Boxes within `gap` of each other merged, until none are: a ring broken where black
/// print crosses it, its lettering and its star make one box.
fn merged(mut boxes: Vec<[u32; 4]>, gap: u32) -> Vec<[u32; 4]> {
    let near = |a: &[u32; 4], b: &[u32; 4]| a[0] <= b[2] + gap && b[0] <= a[2] + gap && a[1] <= b[3] + gap && b[1] <= a[3] + gap;
    loop {
        let mut joined = false;
        let mut out: Vec<[u32; 4]> = Vec::with_capacity(boxes.len());
        for b in boxes {
            match out.iter_mut().find(|o| near(o, &b)) {
                Some(o) => {
                    *o = [o[0].min(b[0]), o[1].min(b[1]), o[2].max(b[2]), o[3].max(b[3])];
                    joined = true;
                }
                None => out.push(b),
            }
        }
        boxes = out;
        if !joined {
            return boxes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    const PAPER: Rgb<u8> = Rgb([240, 238, 232]);
    const RED: Rgb<u8> = Rgb([205, 35, 40]);

    /// A 150 dpi page with a black bar of print, a red ring 35 mm across over it, and red
    /// letters (a heading) elsewhere.
    fn page() -> RgbImage {
        let mut page = RgbImage::from_pixel(600, 600, PAPER);
        for y in 300..310 {
            for x in 100..500 {
                page.put_pixel(x, y, Rgb([20, 20, 20]));
            }
        }
        let (cx, cy, r) = (300.0f32, 300.0f32, 103.0f32);
        for y in 0..600 {
            for x in 0..600 {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                if (r - 5.0..r).contains(&d) && page.get_pixel(x, y).0[0] > 100 {
                    page.put_pixel(x, y, RED);
                }
            }
        }
        for i in 0..10 {
            for y in 40..60 {
                for x in 100 + i * 20..110 + i * 20 {
                    page.put_pixel(x, y, RED);
                }
            }
        }
        page
    }

    #[test]
    fn a_red_seal_is_dropped_and_print_under_it_and_red_letters_stay() {
        let grey = grey(DynamicImage::ImageRgb8(page()), 150.0);
        let luma = |x: u32, y: u32| grey.get_pixel(x, y).0[0];
        // the ring, left, right, top and bottom: as light as its red
        for (x, y) in [(200, 290), (400, 290), (300, 199), (300, 400)] {
            assert!(luma(x, y) > 190, "ring at {x},{y}: {}", luma(x, y));
        }
        // the black print the ring crosses stays black
        assert!(luma(199, 305) < 40 && luma(300, 305) < 40);
        // red letters of a heading are no seal
        assert!(luma(105, 50) < 120, "{}", luma(105, 50));
        // outside a seal every pixel is grey as the image crate weighs it
        let plain = image::imageops::grayscale(&page());
        for (x, y) in [(105, 50), (150, 305), (20, 500), (590, 10)] {
            assert_eq!(grey.get_pixel(x, y), plain.get_pixel(x, y), "{x},{y}");
        }
        // nor is a red block as high as a seal but three times as wide
        let mut banner = page();
        for y in 450..590 {
            for x in 100..520 {
                if (y / 12) % 2 == 0 {
                    banner.put_pixel(x, y, RED);
                }
            }
        }
        let grey = super::grey(DynamicImage::ImageRgb8(banner), 150.0);
        assert!(grey.get_pixel(300, 456).0[0] < 120, "{}", grey.get_pixel(300, 456).0[0]);
    }

    #[test]
    fn pages_without_red_are_only_converted() {
        let mut page = RgbImage::from_pixel(200, 200, PAPER);
        page.put_pixel(10, 10, RED);
        for (x, y) in [(20, 20), (30, 40)] {
            page.put_pixel(x, y, Rgb([255, 128, 3]));
            page.put_pixel(x + 1, y, Rgb([7, 254, 99]));
        }
        let expected = image::imageops::grayscale(&page);
        assert_eq!(grey(DynamicImage::ImageRgb8(page), 150.0), expected);
        let plain = GrayImage::from_pixel(50, 50, Luma([200]));
        assert_eq!(grey(DynamicImage::ImageLuma8(plain.clone()), 150.0), plain);
    }
}
