//! A thin layer over tiny-skia: paints with palette *roles* rather than colours, and records which
//! roles it painted, so that an image's palette and description name exactly the colours used.
//! Subjects are drawn in a unit box (x and y from -50 to 50, y down) placed by [`Canvas::place`].

use tiny_skia::{Color, FillRule, LineCap, LineJoin, Mask, Paint, Path, PathBuilder, Pixmap, Stroke, Transform};

use super::words::PaletteDef;

/// What a colour is for in a palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Role {
    /// The main background.
    Ground,
    /// The second background colour (gradients, split halves, scene skies).
    Haze,
    /// The body of the subject.
    Main,
    /// Details, ribbons, decorations.
    Accent,
    /// Outlines and contrasting parts.
    Ink,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Ground, Role::Haze, Role::Main, Role::Accent, Role::Ink];

    /// The name of the role in the data files and templates.
    pub fn key(self) -> &'static str {
        match self {
            Role::Ground => "ground",
            Role::Haze => "haze",
            Role::Main => "main",
            Role::Accent => "accent",
            Role::Ink => "ink",
        }
    }
}

/// A pixmap being drawn, with the palette it draws from and the roles it used.
pub(super) struct Canvas {
    pixmap: Pixmap,
    colors: [Color; 5],
    used: [bool; 5],
    transform: Transform,
    clip: Option<Mask>,
}

impl Canvas {
    pub fn new(width: u32, height: u32, palette: &PaletteDef) -> Canvas {
        let pixmap = Pixmap::new(width, height).expect("image sizes are small and non-zero");
        let colors = palette
            .colors
            .map(|c| Color::from_rgba8(c.rgb[0], c.rgb[1], c.rgb[2], 255));
        Canvas {
            pixmap,
            colors,
            used: [false; 5],
            transform: Transform::identity(),
            clip: None,
        }
    }

    /// Draws in pixels from now on.
    pub fn place_pixels(&mut self) {
        self.transform = Transform::identity();
    }

    /// Draws in the unit box from now on: its centre at (`cx`, `cy`), its 100 units `size` pixels.
    pub fn place(&mut self, cx: f32, cy: f32, size: f32) {
        self.transform = Transform::from_translate(cx, cy).pre_scale(size / 100.0, size / 100.0);
    }

    /// Fills the whole pixmap with one role.
    pub fn flood(&mut self, role: Role) {
        self.used[role as usize] = true;
        self.pixmap.fill(self.colors[role as usize]);
    }

    fn paint(&self, role: Role) -> Paint<'static> {
        let mut paint = Paint::default();
        paint.set_color(self.colors[role as usize]);
        paint.anti_alias = true;
        paint
    }

    pub fn fill(&mut self, path: Option<Path>, role: Role) {
        let Some(path) = path else { return };
        self.used[role as usize] = true;
        let paint = self.paint(role);
        self.pixmap
            .fill_path(&path, &paint, FillRule::Winding, self.transform, self.clip.as_ref());
    }

    pub fn stroke(&mut self, path: Option<Path>, role: Role, width: f32) {
        let Some(path) = path else { return };
        self.used[role as usize] = true;
        let paint = self.paint(role);
        let stroke = Stroke {
            width,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            ..Stroke::default()
        };
        self.pixmap
            .stroke_path(&path, &paint, &stroke, self.transform, self.clip.as_ref());
    }

    /// Paints the whole canvas with a gradient between two roles, linear from `from` to `to` or
    /// radial around `from` out to a radius, as [`BANDS`] flat bands. Flat bands are what keep a
    /// 1080x1350 story PNG well under 100 KB (a smooth radial ramp compresses poorly) and are
    /// tiny-skia's fast solid-fill path. Each band reaches past the next one, which paints over
    /// its tail, so no pixel between two bands is left unpainted.
    pub fn gradient(&mut self, (a, b): (Role, Role), from: (f32, f32), to: Gradient) {
        self.used[a as usize] = true;
        self.used[b as usize] = true;
        let (ca, cb) = (self.colors[a as usize], self.colors[b as usize]);
        let far = (self.pixmap.width() + self.pixmap.height()) as f32 * 2.0;
        let band = |k: usize| {
            let t = k as f32 / (BANDS - 1) as f32;
            let mix = |x: f32, y: f32| x + (y - x) * t;
            Color::from_rgba(
                mix(ca.red(), cb.red()),
                mix(ca.green(), cb.green()),
                mix(ca.blue(), cb.blue()),
                1.0,
            )
            .expect("a mix of two valid colours is valid")
        };
        match to {
            Gradient::Linear(x, y) => {
                let (dx, dy) = (x - from.0, y - from.1);
                let length = (dx * dx + dy * dy).sqrt().max(1.0);
                let (ux, uy) = (dx / length, dy / length);
                for k in 0..BANDS {
                    let s = length * k as f32 / BANDS as f32;
                    let (x0, y0) = (from.0 + ux * s, from.1 + uy * s);
                    let (x1, y1) = (x0 + ux * far, y0 + uy * far);
                    let (px, py) = (-uy * far, ux * far);
                    let strip = polygon(&[
                        (x0 + px, y0 + py),
                        (x1 + px, y1 + py),
                        (x1 - px, y1 - py),
                        (x0 - px, y0 - py),
                    ]);
                    self.fill_color(strip, band(k));
                }
            }
            Gradient::Radial(radius) => {
                for k in (0..BANDS).rev() {
                    self.fill_color(circle(from.0, from.1, radius * (k + 1) as f32 / BANDS as f32), band(k));
                }
            }
        }
    }

    /// A flat fill without anti-aliasing: neighbouring bands differ by a few levels, so a hard
    /// edge is invisible, and it keeps the PNG smaller than soft edge pixels would.
    fn fill_color(&mut self, path: Option<Path>, color: Color) {
        let Some(path) = path else { return };
        let mut paint = Paint::default();
        paint.set_color(color);
        paint.anti_alias = false;
        self.pixmap
            .fill_path(&path, &paint, FillRule::Winding, self.transform, self.clip.as_ref());
    }

    /// Restricts drawing to the inside of `path` (in the current placement) until [`Canvas::unclip`].
    pub fn clip(&mut self, path: Option<Path>) {
        let Some(path) = path else { return };
        let mut mask = Mask::new(self.pixmap.width(), self.pixmap.height()).expect("same size as the pixmap");
        mask.fill_path(&path, FillRule::Winding, true, self.transform);
        self.clip = Some(mask);
    }

    pub fn unclip(&mut self) {
        self.clip = None;
    }

    /// The roles painted so far, in role order.
    pub fn used(&self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| self.used[*r as usize]).collect()
    }

    pub fn into_pixmap(self) -> Pixmap {
        self.pixmap
    }
}

/// Number of flat bands in a background gradient.
pub(super) const BANDS: usize = 24;

/// Where a gradient goes: to a point (linear) or out to a radius (radial).
#[derive(Debug, Clone, Copy)]
pub(super) enum Gradient {
    Linear(f32, f32),
    Radial(f32),
}

// Shape helpers. Each returns `None` only for a degenerate shape, which the canvas then skips.

pub(super) fn circle(x: f32, y: f32, r: f32) -> Option<Path> {
    PathBuilder::from_circle(x, y, r)
}

pub(super) fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32) -> Option<Path> {
    PathBuilder::from_oval(tiny_skia::Rect::from_ltrb(cx - rx, cy - ry, cx + rx, cy + ry)?)
}

/// An ellipse turned by `degrees` around its centre.
pub(super) fn ellipse_rotated(cx: f32, cy: f32, rx: f32, ry: f32, degrees: f32) -> Option<Path> {
    ellipse(cx, cy, rx, ry)?.transform(Transform::from_rotate_at(degrees, cx, cy))
}

pub(super) fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Option<Path> {
    Some(PathBuilder::from_rect(tiny_skia::Rect::from_ltrb(x0, y0, x1, y1)?))
}

/// A rectangle with corners rounded by `r` (quarter circles approximated by cubics).
pub(super) fn rounded(x0: f32, y0: f32, x1: f32, y1: f32, r: f32) -> Option<Path> {
    let r = r.min((x1 - x0) / 2.0).min((y1 - y0) / 2.0);
    let k = r * 0.447_715; // 1 - 0.552285: how far the cubic handles sit from the corner
    let mut pb = PathBuilder::new();
    pb.move_to(x0 + r, y0);
    pb.line_to(x1 - r, y0);
    pb.cubic_to(x1 - k, y0, x1, y0 + k, x1, y0 + r);
    pb.line_to(x1, y1 - r);
    pb.cubic_to(x1, y1 - k, x1 - k, y1, x1 - r, y1);
    pb.line_to(x0 + r, y1);
    pb.cubic_to(x0 + k, y1, x0, y1 - k, x0, y1 - r);
    pb.line_to(x0, y0 + r);
    pb.cubic_to(x0, y0 + k, x0 + k, y0, x0 + r, y0);
    pb.close();
    pb.finish()
}

/// A closed polygon.
pub(super) fn polygon(points: &[(f32, f32)]) -> Option<Path> {
    let mut pb = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    pb.move_to(first.0, first.1);
    for p in rest {
        pb.line_to(p.0, p.1);
    }
    pb.close();
    pb.finish()
}

/// An open polyline (for strokes).
pub(super) fn polyline(points: &[(f32, f32)]) -> Option<Path> {
    let mut pb = PathBuilder::new();
    let (first, rest) = points.split_first()?;
    pb.move_to(first.0, first.1);
    for p in rest {
        pb.line_to(p.0, p.1);
    }
    pb.finish()
}

/// An open quadratic curve from `a` to `b` bending towards `c` (for strokes).
pub(super) fn curve(a: (f32, f32), c: (f32, f32), b: (f32, f32)) -> Option<Path> {
    let mut pb = PathBuilder::new();
    pb.move_to(a.0, a.1);
    pb.quad_to(c.0, c.1, b.0, b.1);
    pb.finish()
}

/// A horizontal wave from `x0` to `x1` around `y`: `waves` crests of height `amp`.
pub(super) fn wave(x0: f32, x1: f32, y: f32, amp: f32, waves: u32) -> Option<Path> {
    let mut pb = PathBuilder::new();
    let step = (x1 - x0) / (waves as f32 * 2.0);
    pb.move_to(x0, y);
    for i in 0..waves * 2 {
        let xa = x0 + step * i as f32;
        let dir = if i % 2 == 0 { -1.0 } else { 1.0 };
        pb.quad_to(xa + step / 2.0, y + dir * amp * 2.0, xa + step, y);
    }
    pb.finish()
}

/// A four-pointed star (sparkle) of outer radius `r`.
pub(super) fn sparkle(cx: f32, cy: f32, r: f32) -> Option<Path> {
    let k = r * 0.18;
    let mut pb = PathBuilder::new();
    pb.move_to(cx, cy - r);
    pb.quad_to(cx + k, cy - k, cx + r, cy);
    pb.quad_to(cx + k, cy + k, cx, cy + r);
    pb.quad_to(cx - k, cy + k, cx - r, cy);
    pb.quad_to(cx - k, cy - k, cx, cy - r);
    pb.close();
    pb.finish()
}
