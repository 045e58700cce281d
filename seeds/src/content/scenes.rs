//! Place subjects: small landscapes drawn inside a round medallion (clipped to it, then outlined),
//! in the same unit box as the products, plus the table from subject key to drawing.

use tiny_skia::PathBuilder;

use super::{
    canvas::{
        Canvas,
        Role::{self, Accent, Ground, Haze, Ink, Main},
        circle, polygon, polyline, rect, wave,
    },
    objects,
};

/// Draws one subject in the unit box.
type Drawing = fn(&mut Canvas);

/// The drawing of each subject key of `subjects.txt`.
pub(super) const DRAWINGS: &[(&str, Drawing)] = &[
    ("coffee_cup", objects::coffee_cup),
    ("running_shoe", objects::running_shoe),
    ("smartphone", objects::smartphone),
    ("sunglasses", objects::sunglasses),
    ("bicycle", objects::bicycle),
    ("mountain_landscape", mountain_landscape),
    ("beach", beach),
    ("city_skyline", city_skyline),
    ("gift_box", objects::gift_box),
    ("shopping_bag", objects::shopping_bag),
    ("headphones", objects::headphones),
    ("potted_plant", objects::potted_plant),
    ("laptop", objects::laptop),
    ("wristwatch", objects::wristwatch),
    ("backpack", objects::backpack),
];

/// Draws the subject `key` in the current placement.
pub(super) fn draw(key: &str, c: &mut Canvas) {
    let (_, drawing) = DRAWINGS
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("subject `{key}` of subjects.txt has no drawing"));
    drawing(c);
}

const RADIUS: f32 = 46.0;

/// Runs `scene` clipped to the medallion with a `Haze` sky, then outlines the medallion.
fn medallion(c: &mut Canvas, scene: impl FnOnce(&mut Canvas)) {
    c.clip(circle(0.0, 0.0, RADIUS));
    c.fill(circle(0.0, 0.0, RADIUS + 1.0), Haze);
    scene(c);
    c.unclip();
    c.stroke(circle(0.0, 0.0, RADIUS), Ink, 3.0);
}

/// A peak with its apex at `apex` and its foot on y = 50, with a snow cap covering the top
/// `cap` fraction of its height.
fn peak(c: &mut Canvas, left: f32, apex: (f32, f32), right: f32, cap: f32, role: Role) {
    c.fill(polygon(&[(left, 50.0), apex, (right, 50.0)]), role);
    let h = 50.0 - apex.1;
    let y = apex.1 + h * cap;
    let l = apex.0 + (left - apex.0) * cap;
    let r = apex.0 + (right - apex.0) * cap;
    let third = (r - l) / 3.0;
    c.fill(
        polygon(&[apex, (r, y), (r - third, y - 3.0), (l + third, y + 1.5), (l, y)]),
        Ground,
    );
}

fn mountain_landscape(c: &mut Canvas) {
    medallion(c, |c| {
        c.fill(circle(-28.0, -26.0, 8.0), Accent); // sun above the left slope
        peak(c, -6.0, (24.0, -6.0), 56.0, 0.2, Ink);
        peak(c, -56.0, (-16.0, -26.0), 26.0, 0.22, Main);
    });
}

fn beach(c: &mut Canvas) {
    medallion(c, |c| {
        c.fill(circle(18.0, -22.0, 9.0), Accent); // sun
        c.fill(rect(-50.0, -2.0, 50.0, 24.0), Main); // sea
        c.stroke(wave(-40.0, 40.0, 6.0, 1.6, 4), Ground, 1.8);
        c.stroke(wave(-30.0, 34.0, 14.0, 1.6, 3), Ground, 1.8);
        let mut sand = PathBuilder::new();
        sand.move_to(-50.0, 22.0);
        sand.quad_to(0.0, 12.0, 50.0, 22.0);
        sand.line_to(50.0, 50.0);
        sand.line_to(-50.0, 50.0);
        sand.close();
        c.fill(sand.finish(), Ground);
        c.stroke(polyline(&[(-16.0, 36.0), (-16.0, 2.0)]), Ink, 2.2); // umbrella pole
        let mut canopy = PathBuilder::new();
        canopy.move_to(-34.0, 4.0);
        canopy.cubic_to(-34.0, -8.0, -26.0, -14.0, -16.0, -14.0);
        canopy.cubic_to(-6.0, -14.0, 2.0, -8.0, 2.0, 4.0);
        canopy.close();
        c.fill(canopy.finish(), Accent);
    });
}

fn city_skyline(c: &mut Canvas) {
    const TOWERS: [(f32, f32, f32, Role); 7] = [
        (-50.0, -34.0, -6.0, Ink),
        (-36.0, -20.0, -30.0, Main),
        (-22.0, -8.0, -14.0, Ink),
        (-10.0, 6.0, -38.0, Main),
        (4.0, 18.0, -10.0, Ink),
        (16.0, 30.0, -14.0, Main),
        (28.0, 50.0, -4.0, Ink),
    ];
    medallion(c, |c| {
        c.fill(circle(14.0, -28.0, 7.0), Accent); // moon, clear of the rooftops below it
        for (i, &(x0, x1, top, role)) in TOWERS.iter().enumerate() {
            c.fill(rect(x0, top, x1, 50.0), role);
            let mut y = top + 4.0;
            let mut row = 0;
            while y < 44.0 {
                let mut x = x0 + 3.0;
                let mut col = 0;
                while x + 2.4 < x1 - 2.0 {
                    if (i + row + col) % 3 != 0 {
                        c.fill(rect(x, y, x + 2.4, y + 3.0), Ground); // lit windows
                    }
                    x += 5.0;
                    col += 1;
                }
                y += 6.0;
                row += 1;
            }
        }
    });
}
