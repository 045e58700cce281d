//! Draws an [`ImageSpec`] with tiny-skia and encodes it as an 8-bit RGB PNG. Flat shapes and
//! banded gradients compress well with PNG's row filters, so even a 1080x1350 story stays small.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{
    canvas::{Canvas, Gradient, Role, circle, polygon, polyline, rounded, sparkle, wave},
    scenes,
    spec::{Background, Composition, Decoration, ImageSpec},
};

/// A drawn and encoded image.
pub(super) struct Rendered {
    pub png: Vec<u8>,
    /// The roles painted, most dominant (by pixel count) first.
    pub palette: Vec<Role>,
}

pub(super) fn render(spec: &ImageSpec) -> Rendered {
    let (w, h) = (spec.width as f32, spec.height as f32);
    let layout = spec.layout();
    let mut c = Canvas::new(spec.width, spec.height, spec.palette());

    c.flood(Role::Ground);
    let pair = (Role::Ground, Role::Haze);
    match spec.background {
        Background::Solid => {}
        Background::Vertical => c.gradient(pair, (w / 2.0, 0.0), Gradient::Linear(w / 2.0, h)),
        Background::Horizontal => c.gradient(pair, (0.0, h / 2.0), Gradient::Linear(w, h / 2.0)),
        Background::DiagonalGradient => c.gradient(pair, (0.0, 0.0), Gradient::Linear(w, h)),
        Background::Radial => {
            let centre = if layout.slots.len() == 1 {
                layout.slots[0]
            } else {
                (w / 2.0, h / 2.0)
            };
            let reach = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
                .iter()
                .map(|(x, y)| ((x - centre.0).powi(2) + (y - centre.1).powi(2)).sqrt())
                .fold(0.0_f32, f32::max);
            c.gradient(pair, centre, Gradient::Radial(reach));
        }
    }
    if spec.composition == Composition::Diagonal {
        c.fill(polygon(&[(w, 0.0), (w, h), (0.0, h)]), Role::Haze);
    }

    decorate(&mut c, spec, &layout.slots, layout.size);

    if spec.composition == Composition::Framed {
        let inset = spec.frame_inset();
        c.stroke(
            rounded(inset, inset, w - inset, h - inset, w * 0.06),
            Role::Accent,
            w * 0.025,
        );
    }
    for &(x, y) in &layout.slots {
        c.place(x, y, layout.size);
        scenes::draw(spec.subject().key, &mut c);
    }
    c.place_pixels();

    let used = c.used();
    let pixmap = c.into_pixmap();
    let (rgb, palette) = to_rgb_by_dominance(pixmap.data(), &used, spec);
    Rendered {
        png: encode(&rgb, spec.width, spec.height),
        palette,
    }
}

fn decorate(c: &mut Canvas, spec: &ImageSpec, slots: &[(f32, f32)], size: f32) {
    let (w, h) = (spec.width as f32, spec.height as f32);
    let short = w.min(h);
    // Inside the frame when there is one (past the frame's stroke).
    let inset = if spec.composition == Composition::Framed {
        spec.frame_inset() + w * 0.03
    } else {
        0.0
    };
    let (x0, y0, x1, y1) = (inset, inset, w - inset, h - inset);
    let mut rng = ChaCha8Rng::seed_from_u64(spec.detail_seed);

    if spec.has(Decoration::Stripes) {
        let gap = short * 0.035;
        for k in 1..=6 {
            let d = gap * k as f32;
            let (a, b) = match spec.stripe_corner {
                0 => ((x0 + d, y0), (x0, y0 + d)),
                1 => ((x1 - d, y0), (x1, y0 + d)),
                2 => ((x1 - d, y1), (x1, y1 - d)),
                _ => ((x0 + d, y1), (x0, y1 - d)),
            };
            c.stroke(polyline(&[a, b]), Role::Ink, gap * 0.3);
        }
    }
    if spec.has(Decoration::Waves) {
        let step = short * 0.035;
        for k in 1..=3 {
            let y = y1 - short * 0.02 - step * k as f32;
            c.stroke(
                wave(x0 + short * 0.04, x1 - short * 0.04, y, short * 0.006, 7),
                Role::Main,
                short * 0.007,
            );
        }
    }
    if spec.has(Decoration::Dots) {
        let keep_out = size * 0.62;
        for _ in 0..spec.dots {
            let r = short * rng.random_range(0.010..0.018);
            // Open background only; after many misses take the last try, so the count stays exact.
            let mut at = (0.0, 0.0);
            for _ in 0..200 {
                at = (
                    rng.random_range(x0 + r * 2.0..x1 - r * 2.0),
                    rng.random_range(y0 + r * 2.0..y1 - r * 2.0),
                );
                if slots
                    .iter()
                    .all(|s| ((at.0 - s.0).powi(2) + (at.1 - s.1).powi(2)).sqrt() > keep_out + r)
                {
                    break;
                }
            }
            c.fill(circle(at.0, at.1, r), Role::Accent);
        }
    }
    if spec.has(Decoration::Sparkles) {
        let centre = slots[0];
        let start: f32 = rng.random_range(0.0..360.0);
        let r = short * 0.03;
        for k in 0..spec.sparkles {
            let angle = (start + k as f32 * 360.0 / spec.sparkles as f32 + rng.random_range(-15.0..15.0)).to_radians();
            let (s, co) = angle.sin_cos();
            let reach = size * rng.random_range(0.64..0.72);
            let x = (centre.0 + co * reach).clamp(x0 + r * 1.5, x1 - r * 1.5);
            let y = (centre.1 + s * reach).clamp(y0 + r * 1.5, y1 - r * 1.5);
            c.fill(sparkle(x, y, r), Role::Accent);
        }
    }
}

/// Drops the alpha channel (every pixel is opaque: the background covers the canvas) and orders
/// the used roles by how many pixels are closest to their colour, most first. Integer arithmetic
/// only, so the order is exactly reproducible. Plain loops with a one-pixel cache (flat shapes
/// repeat colours) keep this cheap even in unoptimised test builds.
fn to_rgb_by_dominance(rgba: &[u8], used: &[Role], spec: &ImageSpec) -> (Vec<u8>, Vec<Role>) {
    let palette = spec.palette();
    let colors: Vec<[i32; 3]> = used.iter().map(|r| palette.color(*r).rgb.map(i32::from)).collect();
    let mut counts = vec![0_u64; used.len()];
    let mut rgb = vec![0_u8; rgba.len() / 4 * 3];
    let (mut last, mut last_nearest) = ([0_u8; 3], usize::MAX);
    for (src, dst) in rgba.chunks_exact(4).zip(rgb.chunks_exact_mut(3)) {
        let p = [src[0], src[1], src[2]];
        dst.copy_from_slice(&p);
        if p != last || last_nearest == usize::MAX {
            let mut best = (i32::MAX, 0);
            for (n, c) in colors.iter().enumerate() {
                let (dr, dg, db) = (c[0] - i32::from(p[0]), c[1] - i32::from(p[1]), c[2] - i32::from(p[2]));
                let d = dr * dr + dg * dg + db * db;
                if d < best.0 {
                    best = (d, n);
                }
            }
            (last, last_nearest) = (p, best.1);
        }
        counts[last_nearest] += 1;
    }
    let mut order: Vec<usize> = (0..used.len()).collect();
    order.sort_by_key(|&n| (std::cmp::Reverse(counts[n]), n));
    (rgb, order.into_iter().map(|n| used[n]).collect())
}

fn encode(rgb: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgb.len() / 40);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Default);
    // Per-row filter choice: flat fills and bands compress far better than with one fixed filter.
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder
        .write_header()
        .expect("writing a PNG header to memory cannot fail");
    writer
        .write_image_data(rgb)
        .expect("the buffer holds exactly width x height RGB pixels");
    writer.finish().expect("finishing a PNG in memory cannot fail");
    out
}
