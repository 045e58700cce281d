//! Texts of an image, written from the same [`ImageSpec`] the renderer drew and the roles it
//! actually painted: long description, alt text, hashtags and the generation prompt.

use super::{
    canvas::Role,
    spec::{Background, Composition, Decoration, ImageSpec},
    words::{self, Lang, channel_name, fill, phrase},
};

/// The texts of one image.
pub(super) struct Texts {
    pub description: String,
    pub alt_text: String,
    /// 3 to 8 distinct tags.
    pub hashtags: Vec<&'static str>,
    pub prompt: String,
}

const MAX_ALT: usize = 250;

fn number_word(n: u32) -> String {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS.get(n as usize).map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// `ratio` as a percentage rounded to 5.
fn percent(ratio: f32) -> String {
    (((ratio * 20.0).round() as u32) * 5).to_string()
}

pub(super) fn describe(spec: &ImageSpec, channels: &[String]) -> Texts {
    let subject = spec.subject();
    let palette = spec.palette();
    let layout = spec.layout();
    let (w, h) = (spec.width as f32, spec.height as f32);
    let short = w.min(h);
    let shape = match spec.width.cmp(&spec.height) {
        std::cmp::Ordering::Equal => "square",
        std::cmp::Ordering::Greater => "landscape",
        std::cmp::Ordering::Less => "portrait",
    };
    let dim = match shape {
        "square" => "side",
        "landscape" => "height",
        _ => "width",
    };
    let pct = match spec.composition {
        Composition::Centered | Composition::Diagonal => percent(layout.size / short),
        Composition::ThirdsLeft | Composition::ThirdsRight => percent(layout.size / h),
        Composition::Framed => percent(layout.size / w),
        Composition::Pattern => percent(layout.size / layout.cell),
    };
    let corner = ["top-left", "top-right", "bottom-right", "bottom-left"][spec.stripe_corner % 4];
    let channel_names: Vec<String> = channels.iter().map(|c| channel_name(c)).collect();
    let background_key = match (spec.composition, spec.background) {
        (Composition::Diagonal, _) => "alt.split",
        (_, Background::Solid) => "alt.solid",
        _ => "alt.gradient",
    };
    let value = |n: Option<u32>| {
        let pct = pct.clone();
        let channels = words::join_words(&channel_names, Lang::En);
        move |key: &str| -> Option<String> {
            if let Some(role) = Role::ALL.into_iter().find(|r| r.key() == key) {
                return Some(palette.color(role).name.to_owned());
            }
            Some(match key {
                "subject" => subject.name.to_owned(),
                "shape" => shape.to_owned(),
                "w" => spec.width.to_string(),
                "h" => spec.height.to_string(),
                "palette" => palette.name.to_owned(),
                "pct" => pct.clone(),
                "dim" => dim.to_owned(),
                "count" => number_word(layout.cols * layout.rows),
                "cols" => number_word(layout.cols),
                "rows" => number_word(layout.rows),
                "n" => number_word(n?),
                "corner" => corner.to_owned(),
                "theme" => spec.theme().phrase.to_owned(),
                "channels" => channels.clone(),
                _ => return None,
            })
        }
    };
    let say = |key: &str| fill(phrase(key), &value(None));

    let composition = spec.composition.key();
    let mut sentences = vec![
        say(&format!("intro.{composition}")),
        fill(subject.sentence, &value(None)),
        say(&format!("place.{composition}")),
    ];
    sentences.push(match (spec.composition, spec.background) {
        (Composition::Diagonal, _) => say("bg.split"),
        (_, Background::Solid) => say("bg.solid"),
        (_, Background::Vertical) => say("bg.vertical"),
        (_, Background::Horizontal) => say("bg.horizontal"),
        (_, Background::DiagonalGradient) => say("bg.diagonal_gradient"),
        (Composition::Pattern, Background::Radial) => say("bg.radial_centre"),
        (_, Background::Radial) => say("bg.radial"),
    });
    if spec.composition == Composition::Framed {
        sentences.push(say("frame"));
    }
    if spec.decorations.is_empty() {
        sentences.push(say("deco.none"));
    }
    for d in &spec.decorations {
        let n = match d {
            Decoration::Dots => Some(spec.dots),
            Decoration::Sparkles => Some(spec.sparkles),
            _ => None,
        };
        sentences.push(fill(phrase(&format!("deco.{}", d.key())), &value(n)));
    }
    sentences.push(say("closing"));

    let background = say(background_key);
    let alt_template = if spec.composition == Composition::Pattern {
        "alt.pattern"
    } else {
        "alt"
    };
    let alt_value = value(None);
    let mut alt_text = fill(phrase(alt_template), &|key: &str| match key {
        "background" => Some(background.clone()),
        other => alt_value(other),
    });
    if alt_text.chars().count() > MAX_ALT {
        alt_text = alt_text.chars().take(MAX_ALT).collect();
    }

    Texts {
        description: sentences.join(" "),
        alt_text,
        hashtags: hashtags(spec),
        prompt: prompt(spec),
    }
}

fn hashtags(spec: &ImageSpec) -> Vec<&'static str> {
    let mut tags = vec![
        spec.subject().tag,
        palette_tag(spec.palette),
        spec.composition.tag(),
        spec.theme().tag,
    ];
    if spec.background != Background::Solid && spec.composition != Composition::Diagonal {
        tags.push("gradient");
    }
    tags.extend(spec.decorations.iter().map(|d| d.key()));
    if spec.height > spec.width {
        tags.push("stories");
    }
    tags
}

/// The category of a tag in the hashtag vocabulary: subjects and themes bring theirs, the rest
/// says what the picture looks like.
pub(super) fn category_of(tag: &str) -> &'static str {
    if let Some(s) = words::SUBJECTS.iter().find(|s| s.tag == tag) {
        return s.tag_category;
    }
    if let Some(t) = words::THEMES.iter().find(|t| t.tag == tag) {
        return t.category;
    }
    match tag {
        t if t.ends_with("_palette") => "color",
        "stories" => "format",
        _ => "style",
    }
}

/// `<palette>_palette`, built once per palette.
fn palette_tag(palette: usize) -> &'static str {
    static TAGS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| words::PALETTES.iter().map(|p| format!("{}_palette", p.name)).collect());
    &TAGS[palette]
}

/// The parameter sentence the generator was run with (the generation log's prompt).
fn prompt(spec: &ImageSpec) -> String {
    let palette = spec.palette();
    let hexes: Vec<&str> = palette.colors.iter().map(|c| c.hex).collect();
    let decorations: Vec<&str> = spec.decorations.iter().map(|d| d.key()).collect();
    format!(
        "Draw {} ({}) as a {} composition on a {}x{} canvas with the {} palette ({}), {} background, \
         decorations: {}; theme {}; detail seed {:016x}.",
        fill("{a:s}", &|_| Some(spec.subject().name.to_owned())),
        spec.subject().key,
        spec.composition.label(),
        spec.width,
        spec.height,
        palette.name,
        hexes.join(", "),
        spec.background.key(),
        if decorations.is_empty() {
            "none".to_owned()
        } else {
            decorations.join(", ")
        },
        spec.theme().tag,
        spec.detail_seed,
    )
}
