//! The parameters of one image. The renderer draws from them and the describer writes from them,
//! so the text always says what the picture shows.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    rng::pick,
    words::{PALETTES, PaletteDef, SUBJECTS, SubjectDef, THEMES, ThemeDef},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Composition {
    Centered,
    ThirdsLeft,
    ThirdsRight,
    /// The subject repeated in a grid.
    Pattern,
    /// Centred on a background split diagonally into two colour fields.
    Diagonal,
    /// Centred (a little high) inside a rounded frame, portrait for stories.
    Framed,
}

impl Composition {
    pub const ALL: [Composition; 6] = [
        Composition::Centered,
        Composition::ThirdsLeft,
        Composition::ThirdsRight,
        Composition::Pattern,
        Composition::Diagonal,
        Composition::Framed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Composition::Centered => "centered",
            Composition::ThirdsLeft => "thirds_left",
            Composition::ThirdsRight => "thirds_right",
            Composition::Pattern => "pattern",
            Composition::Diagonal => "diagonal",
            Composition::Framed => "framed",
        }
    }

    /// The composition in words, for the generation prompt.
    pub fn label(self) -> &'static str {
        match self {
            Composition::Centered => "centered",
            Composition::ThirdsLeft => "rule-of-thirds (left)",
            Composition::ThirdsRight => "rule-of-thirds (right)",
            Composition::Pattern => "tiled pattern",
            Composition::Diagonal => "diagonal split",
            Composition::Framed => "framed",
        }
    }

    /// The hashtag of the composition.
    pub fn tag(self) -> &'static str {
        match self {
            Composition::Centered => "minimal",
            Composition::ThirdsLeft | Composition::ThirdsRight => "copy_space",
            Composition::Pattern => "pattern",
            Composition::Diagonal => "color_block",
            Composition::Framed => "framed",
        }
    }

    /// Canvas sizes that suit the composition: square feed posts, landscape banners, portrait stories.
    fn sizes(self) -> &'static [(u32, u32)] {
        match self {
            Composition::Centered => &[(640, 640), (640, 640), (1080, 1350)],
            Composition::ThirdsLeft | Composition::ThirdsRight => &[(800, 600)],
            Composition::Pattern => &[(640, 640), (800, 600)],
            Composition::Diagonal => &[(800, 600), (640, 640)],
            Composition::Framed => &[(1080, 1350)],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Background {
    Solid,
    Vertical,
    Horizontal,
    DiagonalGradient,
    Radial,
}

impl Background {
    pub fn key(self) -> &'static str {
        match self {
            Background::Solid => "solid",
            Background::Vertical => "linear gradient, top to bottom",
            Background::Horizontal => "linear gradient, left to right",
            Background::DiagonalGradient => "linear gradient, corner to corner",
            Background::Radial => "radial gradient",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decoration {
    Dots,
    Stripes,
    Sparkles,
    Waves,
}

impl Decoration {
    pub const ALL: [Decoration; 4] = [
        Decoration::Dots,
        Decoration::Stripes,
        Decoration::Sparkles,
        Decoration::Waves,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Decoration::Dots => "dots",
            Decoration::Stripes => "stripes",
            Decoration::Sparkles => "sparkles",
            Decoration::Waves => "waves",
        }
    }
}

/// Everything the renderer needs, and everything the description says.
#[derive(Debug, Clone)]
pub(super) struct ImageSpec {
    pub subject: usize,
    pub palette: usize,
    pub theme: usize,
    pub composition: Composition,
    pub background: Background,
    pub decorations: Vec<Decoration>,
    pub width: u32,
    pub height: u32,
    /// Number of dots, when there are dots.
    pub dots: u32,
    /// Number of sparkles, when there are sparkles.
    pub sparkles: u32,
    /// Corner of the stripes: 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left.
    pub stripe_corner: usize,
    /// Seeds the positions of dots and sparkles.
    pub detail_seed: u64,
}

impl ImageSpec {
    /// Draws a spec. `subject` and `theme` are forced when the image serves a campaign.
    pub fn draw(rng: &mut ChaCha8Rng, subject: usize, theme: Option<usize>) -> ImageSpec {
        let composition = *pick(rng, &Composition::ALL);
        let (width, height) = *pick(rng, composition.sizes());
        let palette = rng.random_range(0..PALETTES.len());
        let theme = theme.unwrap_or_else(|| rng.random_range(0..THEMES.len()));
        let background = match composition {
            Composition::Diagonal => Background::Solid, // the split is the background
            _ => *pick(
                rng,
                &[
                    Background::Solid,
                    Background::Vertical,
                    Background::Horizontal,
                    Background::DiagonalGradient,
                    Background::Radial,
                    Background::Radial,
                ],
            ),
        };
        let mut decorations = Vec::new();
        if composition != Composition::Pattern {
            // The grid already fills a pattern image; others get up to two decorations.
            let n = *pick(rng, &[0_usize, 1, 1, 2]);
            for i in super::rng::sample_indices(rng, Decoration::ALL.len(), n) {
                decorations.push(Decoration::ALL[i]);
            }
            decorations.sort_by_key(|d| *d as u8);
        }
        let stripe_corner = match composition {
            // Opposite the subject, in the open space.
            Composition::ThirdsLeft => *pick(rng, &[1, 2]),
            Composition::ThirdsRight => *pick(rng, &[0, 3]),
            Composition::Framed => *pick(rng, &[0, 1]),
            _ => rng.random_range(0..4),
        };
        ImageSpec {
            subject,
            palette,
            theme,
            composition,
            background,
            decorations,
            width,
            height,
            dots: rng.random_range(10..=24),
            sparkles: rng.random_range(3..=5),
            stripe_corner,
            detail_seed: rng.random(),
        }
    }

    pub fn subject(&self) -> &'static SubjectDef {
        &SUBJECTS[self.subject]
    }

    pub fn palette(&self) -> &'static PaletteDef {
        &PALETTES[self.palette]
    }

    pub fn theme(&self) -> &'static ThemeDef {
        &THEMES[self.theme]
    }

    pub fn has(&self, decoration: Decoration) -> bool {
        self.decorations.contains(&decoration)
    }

    /// Where the subject goes: its centre(s) and its box size in pixels.
    pub fn layout(&self) -> Layout {
        let (w, h) = (self.width as f32, self.height as f32);
        let short = w.min(h);
        match self.composition {
            Composition::Centered => Layout::one((w / 2.0, h / 2.0), short * 0.62),
            Composition::ThirdsLeft => Layout::one((w / 3.0, h / 2.0), h * 0.62),
            Composition::ThirdsRight => Layout::one((w * 2.0 / 3.0, h / 2.0), h * 0.62),
            Composition::Diagonal => Layout::one((w / 2.0, h / 2.0), short * 0.6),
            Composition::Framed => Layout::one((w / 2.0, h * 0.44), w * 0.62),
            Composition::Pattern => {
                let (cols, rows) = if self.width > self.height { (4, 3) } else { (3, 3) };
                let (cw, ch) = (w / cols as f32, h / rows as f32);
                let slots = (0..rows)
                    .flat_map(|r| (0..cols).map(move |c| (cw * (c as f32 + 0.5), ch * (r as f32 + 0.5))))
                    .collect();
                Layout {
                    slots,
                    size: cw.min(ch) * 0.72,
                    cols,
                    rows,
                    cell: cw.min(ch),
                }
            }
        }
    }

    /// The inset of the frame of a framed image (0 otherwise): decorations stay inside it.
    pub fn frame_inset(&self) -> f32 {
        if self.composition == Composition::Framed {
            self.width as f32 * 0.05
        } else {
            0.0
        }
    }
}

/// Subject placement.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Centres of the subject (one, or one per grid cell).
    pub slots: Vec<(f32, f32)>,
    /// Pixels of the unit box.
    pub size: f32,
    pub cols: u32,
    pub rows: u32,
    /// Grid cell size (pattern only).
    pub cell: f32,
}

impl Layout {
    fn one(at: (f32, f32), size: f32) -> Layout {
        Layout {
            slots: vec![at],
            size,
            cols: 1,
            rows: 1,
            cell: 0.0,
        }
    }
}
