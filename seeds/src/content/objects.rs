//! Product subjects drawn from flat shapes in the unit box (-50..50, y down). Each paints exactly
//! the roles its sentence in `subjects.txt` names (a test renders every subject and compares).

use tiny_skia::PathBuilder;

use super::canvas::{
    Canvas,
    Role::{Accent, Ground, Ink, Main},
    circle, curve, ellipse, ellipse_rotated, polygon, polyline, rect, rounded,
};

pub(super) fn coffee_cup(c: &mut Canvas) {
    c.fill(ellipse(0.0, 38.0, 44.0, 9.0), Ink); // saucer
    c.stroke(circle(30.0, 8.0, 11.0), Main, 6.5); // handle; the cup hides its inner half
    let mut cup = PathBuilder::new();
    cup.move_to(-32.0, -12.0);
    cup.line_to(32.0, -12.0);
    cup.line_to(24.0, 28.0);
    cup.quad_to(22.0, 36.0, 14.0, 36.0);
    cup.line_to(-14.0, 36.0);
    cup.quad_to(-22.0, 36.0, -24.0, 28.0);
    cup.close();
    c.fill(cup.finish(), Main);
    c.fill(ellipse(0.0, -12.0, 32.0, 7.0), Ink); // coffee
    c.stroke(ellipse(0.0, -12.0, 32.0, 7.0), Accent, 2.5); // rim
    for x in [-13.0, 0.0, 13.0] {
        let mut steam = PathBuilder::new();
        steam.move_to(x, -24.0);
        steam.quad_to(x + 7.0, -31.0, x, -38.0);
        steam.quad_to(x - 7.0, -45.0, x, -50.0);
        c.stroke(steam.finish(), Accent, 3.5);
    }
}

pub(super) fn running_shoe(c: &mut Canvas) {
    c.fill(rounded(-46.0, 20.0, 48.0, 32.0, 6.0), Ink); // sole
    let mut upper = PathBuilder::new();
    upper.move_to(-44.0, 20.0);
    upper.line_to(-44.0, -6.0);
    upper.quad_to(-44.0, -14.0, -36.0, -14.0);
    upper.line_to(-24.0, -14.0);
    upper.quad_to(-16.0, -6.0, -6.0, -12.0);
    upper.line_to(8.0, -24.0);
    upper.quad_to(14.0, -26.0, 16.0, -20.0);
    upper.line_to(22.0, -6.0);
    upper.quad_to(34.0, 0.0, 44.0, 6.0);
    upper.quad_to(50.0, 10.0, 48.0, 20.0);
    upper.close();
    c.fill(upper.finish(), Main);
    c.fill(ellipse(-30.0, -13.0, 9.0, 3.0), Ink); // collar opening
    c.stroke(curve((-34.0, 12.0), (-2.0, -4.0), (30.0, 8.0)), Accent, 5.0); // side stripe
    for (a, b) in [
        ((-2.0, -10.0), (6.0, -4.0)),
        ((5.0, -17.0), (13.0, -10.0)),
        ((12.0, -7.0), (20.0, -1.0)),
    ] {
        c.stroke(polyline(&[a, b]), Ground, 2.5); // laces
    }
}

pub(super) fn smartphone(c: &mut Canvas) {
    c.fill(rounded(-25.0, -49.0, 25.0, 49.0, 8.0), Ink);
    c.fill(rounded(-21.0, -42.0, 21.0, 42.0, 4.0), Main);
    c.fill(circle(0.0, -45.5, 1.6), Ground); // camera
    for row in 0..4 {
        for col in 0..3 {
            let (x, y) = (-13.0 + col as f32 * 13.0, -30.0 + row as f32 * 14.0);
            let role = if (row + col) % 2 == 0 { Accent } else { Ground };
            c.fill(rounded(x - 4.5, y - 4.5, x + 4.5, y + 4.5, 2.2), role);
        }
    }
    c.fill(rounded(-9.0, 34.0, 9.0, 36.5, 1.25), Ground); // home bar
}

pub(super) fn sunglasses(c: &mut Canvas) {
    for (x0, x1) in [(-44.0, -4.0), (4.0, 44.0)] {
        c.fill(rounded(x0, -12.0, x1, 16.0, 10.0), Main);
        c.stroke(rounded(x0, -12.0, x1, 16.0, 10.0), Ink, 3.5);
    }
    c.stroke(curve((-4.0, -4.0), (0.0, -10.0), (4.0, -4.0)), Ink, 3.5); // bridge
    c.stroke(polyline(&[(-44.0, -8.0), (-50.0, -12.0)]), Ink, 3.5); // temples
    c.stroke(polyline(&[(44.0, -8.0), (50.0, -12.0)]), Ink, 3.5);
    c.fill(circle(-44.0, -8.0, 2.6), Accent); // hinges
    c.fill(circle(44.0, -8.0, 2.6), Accent);
    c.stroke(polyline(&[(-34.0, 8.0), (-24.0, -4.0)]), Ground, 2.5); // glints
    c.stroke(polyline(&[(14.0, 8.0), (24.0, -4.0)]), Ground, 2.5);
}

pub(super) fn bicycle(c: &mut Canvas) {
    let (rear, crank, seat, head, front) = ((-28.0, 20.0), (-2.0, 20.0), (-10.0, -8.0), (18.0, -8.0), (28.0, 20.0));
    c.stroke(circle(rear.0, rear.1, 19.0), Ink, 4.0);
    c.stroke(circle(front.0, front.1, 19.0), Ink, 4.0);
    c.stroke(polyline(&[seat, rear, crank, seat, head, crank]), Main, 4.0); // the diamond frame
    c.stroke(polyline(&[head, front]), Main, 4.0); // fork
    c.stroke(polyline(&[seat, (-11.0, -11.0)]), Main, 3.0); // seat post
    c.fill(rounded(-18.0, -14.0, -3.0, -10.0, 2.0), Accent); // saddle
    c.stroke(polyline(&[head, (16.0, -18.0), (24.0, -20.0)]), Ink, 3.5); // handlebar
    c.fill(circle(rear.0, rear.1, 3.0), Accent); // hubs
    c.fill(circle(front.0, front.1, 3.0), Accent);
    c.fill(circle(crank.0, crank.1, 4.5), Accent);
}

pub(super) fn gift_box(c: &mut Canvas) {
    c.fill(rect(-34.0, -4.0, 34.0, 44.0), Main); // box
    c.fill(rounded(-40.0, -18.0, 40.0, -4.0, 2.0), Main); // lid
    c.stroke(polyline(&[(-34.0, -3.5), (34.0, -3.5)]), Ink, 1.8); // edge of the lid
    c.fill(rect(-6.0, -18.0, 6.0, 44.0), Accent); // ribbon
    c.fill(rect(-34.0, 14.0, 34.0, 24.0), Accent);
    c.stroke(ellipse_rotated(-11.0, -27.0, 11.0, 6.5, -25.0), Accent, 4.5); // bow
    c.stroke(ellipse_rotated(11.0, -27.0, 11.0, 6.5, 25.0), Accent, 4.5);
    c.fill(circle(0.0, -22.0, 5.0), Accent);
}

pub(super) fn shopping_bag(c: &mut Canvas) {
    c.stroke(curve((-20.0, -12.0), (-12.0, -44.0), (-4.0, -12.0)), Ink, 3.5); // handles
    c.stroke(curve((4.0, -12.0), (12.0, -44.0), (20.0, -12.0)), Ink, 3.5);
    c.fill(
        polygon(&[(-30.0, -12.0), (30.0, -12.0), (36.0, 46.0), (-36.0, 46.0)]),
        Main,
    );
    c.fill(circle(0.0, 17.0, 11.0), Accent); // label
    c.fill(circle(0.0, 17.0, 4.0), Ground);
}

pub(super) fn headphones(c: &mut Canvas) {
    let mut band = PathBuilder::new();
    band.move_to(-36.0, 8.0);
    band.cubic_to(-36.0, -52.0, 36.0, -52.0, 36.0, 8.0);
    c.stroke(band.finish(), Ink, 7.0);
    c.fill(rounded(-47.0, 0.0, -25.0, 42.0, 9.0), Main); // ear cups
    c.fill(rounded(25.0, 0.0, 47.0, 42.0, 9.0), Main);
    c.fill(rounded(-27.0, 6.0, -20.0, 36.0, 3.5), Accent); // cushions
    c.fill(rounded(20.0, 6.0, 27.0, 36.0, 3.5), Accent);
}

pub(super) fn potted_plant(c: &mut Canvas) {
    for degrees in [-60.0_f32, -30.0, 0.0, 30.0, 60.0] {
        let (s, k) = degrees.to_radians().sin_cos();
        let at = |r: f32| (s * r, 2.0 - k * r);
        let centre = at(24.0);
        c.fill(ellipse_rotated(centre.0, centre.1, 10.5, 22.0, degrees), Main);
        c.stroke(polyline(&[at(6.0), at(40.0)]), Ground, 1.5); // vein
    }
    c.fill(
        polygon(&[(-21.0, 12.0), (21.0, 12.0), (16.0, 46.0), (-16.0, 46.0)]),
        Accent,
    ); // pot
    c.fill(rounded(-25.0, 4.0, 25.0, 13.0, 2.5), Ink); // rim
}

pub(super) fn laptop(c: &mut Canvas) {
    c.fill(rounded(-40.0, -40.0, 40.0, 16.0, 4.0), Ink); // lid
    c.fill(rect(-35.0, -35.0, 35.0, 11.0), Main); // screen
    for (y, x1) in [(-27.0, -2.0), (-18.0, -8.0), (-9.0, -4.0)] {
        c.fill(rounded(-29.0, y, x1, y + 4.0, 2.0), Ground); // text bars
    }
    c.fill(circle(17.0, -12.0, 11.0), Accent); // chart
    c.fill(
        polygon(&[(-44.0, 17.0), (44.0, 17.0), (50.0, 26.0), (-50.0, 26.0)]),
        Ink,
    ); // base
    c.fill(rounded(-8.0, 17.0, 8.0, 20.0, 1.5), Accent); // notch
}

pub(super) fn wristwatch(c: &mut Canvas) {
    c.fill(rounded(-13.0, -50.0, 13.0, -20.0, 3.0), Ink); // strap ends
    c.fill(rounded(-13.0, 20.0, 13.0, 50.0, 3.0), Ink);
    c.fill(rounded(25.0, -4.0, 32.0, 4.0, 1.5), Main); // crown
    c.fill(circle(0.0, 0.0, 28.0), Main); // case
    c.fill(circle(0.0, 0.0, 22.0), Ground); // dial
    for hour in 0..12 {
        let (s, k) = (hour as f32 * 30.0).to_radians().sin_cos();
        let width = if hour % 3 == 0 { 2.6 } else { 1.8 };
        c.stroke(polyline(&[(s * 17.0, -k * 17.0), (s * 20.0, -k * 20.0)]), Ink, width);
    }
    c.stroke(polyline(&[(0.0, 0.0), (8.0, -7.0)]), Ink, 3.0); // hour hand
    c.stroke(polyline(&[(0.0, 0.0), (-3.0, -16.0)]), Ink, 2.2); // minute hand
    c.stroke(polyline(&[(-4.0, 5.0), (11.0, -13.0)]), Accent, 1.2); // second hand
    c.fill(circle(0.0, 0.0, 2.0), Ink);
}

pub(super) fn backpack(c: &mut Canvas) {
    c.fill(rounded(-36.0, -22.0, -28.0, 40.0, 3.0), Ink); // shoulder straps
    c.fill(rounded(28.0, -22.0, 36.0, 40.0, 3.0), Ink);
    c.stroke(curve((-9.0, -33.0), (0.0, -50.0), (9.0, -33.0)), Ink, 3.5); // carry handle
    c.fill(rounded(-30.0, -36.0, 30.0, 46.0, 15.0), Main);
    c.fill(rounded(-21.0, 6.0, 21.0, 38.0, 8.0), Accent); // front pocket
    c.stroke(polyline(&[(-16.0, 12.0), (16.0, 12.0)]), Ground, 2.0); // zipper
}
