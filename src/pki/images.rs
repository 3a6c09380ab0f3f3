//! Demo images for visible signatures: an official's blue hand signature and the agency's
//! red seal (a ring around a star), as transparent PNGs.

use image::{ImageFormat, Rgba, RgbaImage};

const BLUE: Rgba<u8> = Rgba([25, 45, 170, 255]);
const RED: Rgba<u8> = Rgba([205, 25, 35, 230]);

/// A looping stroke that differs with `variant`, 360 x 120 pixels.
pub fn signature(variant: u32) -> RgbaImage {
    let mut img = RgbaImage::new(360, 120);
    let phase = variant as f32 * 1.7;
    let steps = 2400;
    for i in 0..steps {
        let t = i as f32 / steps as f32;
        // a run of loops drifting right, then a long underline
        let (x, y) = if t < 0.8 {
            let u = t / 0.8 * 5.0 * std::f32::consts::TAU;
            (30.0 + t / 0.8 * 260.0 + 18.0 * u.cos(), 55.0 + 28.0 * (u + phase).sin() * (1.0 - t * 0.5))
        } else {
            let u = (t - 0.8) / 0.2;
            (40.0 + u * 300.0, 95.0 - 12.0 * u)
        };
        dot(&mut img, x, y, 2.2, BLUE);
    }
    img
}

/// The agency's seal: two concentric rings around a five-pointed star, 240 x 240 pixels.
pub fn seal() -> RgbaImage {
    let mut img = RgbaImage::new(240, 240);
    let c = 120.0;
    for (x, y, px) in img.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
        let r = (dx * dx + dy * dy).sqrt();
        if (108.0..116.0).contains(&r) || (80.0..84.0).contains(&r) || in_star(dx, -dy, 48.0) {
            *px = RED;
        }
    }
    img
}

pub fn png(img: &RgbaImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)?;
    Ok(out.into_inner())
}

fn dot(img: &mut RgbaImage, x: f32, y: f32, radius: f32, color: Rgba<u8>) {
    let (w, h) = (img.width() as i32, img.height() as i32);
    let r = radius.ceil() as i32;
    for py in (y as i32 - r)..=(y as i32 + r) {
        for px in (x as i32 - r)..=(x as i32 + r) {
            let (dx, dy) = (px as f32 - x, py as f32 - y);
            if (0..w).contains(&px) && (0..h).contains(&py) && dx * dx + dy * dy <= radius * radius {
                img.put_pixel(px as u32, py as u32, color);
            }
        }
    }
}

/// Whether (x, y) (y up) lies in a five-pointed star of outer radius `r` pointing up.
fn in_star(x: f32, y: f32, r: f32) -> bool {
    let corners: Vec<(f32, f32)> = (0..10)
        .map(|i| {
            let radius = if i % 2 == 0 { r } else { r * 0.38 };
            let angle = std::f32::consts::FRAC_PI_2 + i as f32 * std::f32::consts::PI / 5.0;
            (radius * angle.cos(), radius * angle.sin())
        })
        .collect();
    // even-odd rule
    let mut inside = false;
    for i in 0..corners.len() {
        let ((x1, y1), (x2, y2)) = (corners[i], corners[(i + 1) % corners.len()]);
        if (y1 > y) != (y2 > y) && x < x1 + (y - y1) / (y2 - y1) * (x2 - x1) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_is_red_rings_and_a_star_on_nothing() {
        let seal = seal();
        let red = seal.pixels().filter(|p| p.0 == RED.0).count();
        let clear = seal.pixels().filter(|p| p.0[3] == 0).count();
        assert_eq!(red + clear, 240 * 240);
        assert!(red > 8_000 && red < 20_000, "{red}");
        assert_eq!(seal.get_pixel(120, 120).0, RED.0, "the star's centre");
        assert_eq!(seal.get_pixel(120, 160).0[3], 0, "between the star and the inner ring");
    }

    #[test]
    fn signatures_are_blue_strokes_that_differ() {
        let (a, b) = (signature(1), signature(2));
        assert!(a.pixels().filter(|p| p.0 == BLUE.0).count() > 2_000);
        assert_ne!(a, b);
    }
}
