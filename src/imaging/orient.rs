//! Orientation: whether text lines run across or down the page, and whether
//! the page is upside down.
//!
//! Across or down: the projection peak of the ink turned a quarter against
//! the ink as it lies. Up or down: in Latin script (and more so in
//! Vietnamese, with its marks above the letters) there is more ink above the
//! x-height band (ascenders, capitals, diacritics) than below it
//! (descenders). In a line's profile, read top to bottom, the step into the
//! x-height band is therefore smaller than the step out of it; the sum of
//! squared falling steps exceeds the sum of squared rising steps on an
//! upright page. Pure functions over point lists.

use super::skew::Ink;

/// Whether the text of `ink`, deskewed by `deg`, is upside down: `updown`
/// under `-min` at `deg` and also in the median of `deg` and a tenth of a
/// degree either side. On text the measure barely moves over a tenth of a
/// degree; on pages that are not text (music, drawings, a two-page
/// spread) it can swing far at one exact angle, and a page must not be
/// turned over on that. The two extra measures are taken only when the
/// first says "upside down".
pub fn upside_down(ink: &Ink, deg: f32, strip: usize, min: f32) -> bool {
    let ud = updown(ink, deg, strip);
    if ud >= -min {
        return false;
    }
    let mut three = [
        ud,
        updown(ink, deg - 0.1, strip),
        updown(ink, deg + 0.1, strip),
    ];
    three.sort_by(f32::total_cmp);
    three[1] < -min
}

/// Asymmetry of the line profiles of `ink` deskewed by `deg`: positive for
/// upright text, negative for text upside down, near zero when unsure.
/// Measured in vertical strips of `strip` pixels so that columns of text
/// with offset lines do not blur each other.
pub fn updown(ink: &Ink, deg: f32, strip: usize) -> f32 {
    if ink.pts.is_empty() || ink.w == 0 {
        return 0.0;
    }
    let strip = strip.max(8);
    let t = deg.to_radians().tan();
    let off = if t < 0.0 { -t * ink.w as f32 } else { 0.0 } + 1.0;
    let n = ink.h + (t.abs() * ink.w as f32).ceil() as usize + 3;
    let ns = ink.w.div_ceil(strip);
    let mut hist = vec![0f32; n * ns];
    for &[x, y] in &ink.pts {
        let c = (y as f32 + x as f32 * t + off) as usize;
        let s = x as usize / strip;
        if c < n && s < ns {
            hist[s * n + c] += 1.0;
        }
    }
    let (mut rise, mut fall) = (0f64, 0f64);
    for s in 0..ns {
        for w in hist[s * n..(s + 1) * n].windows(2) {
            let d = (w[1] - w[0]) as f64;
            if d > 0.0 {
                rise += d * d;
            } else {
                fall += d * d;
            }
        }
    }
    if rise <= 0.0 || fall <= 0.0 {
        return 0.0;
    }
    (fall / rise).ln() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines with an x-height band of 6 rows, ink above it on a third of the
    /// columns (ascenders) and below on a tenth (descenders).
    fn text(upside_down: bool) -> Ink {
        let mut pts = Vec::new();
        for line in 0..10 {
            let top = 10 + line * 20;
            for x in 0..200u16 {
                let mut rows: Vec<usize> = (top + 3..top + 9).collect();
                if x % 3 == 0 {
                    rows.extend(top..top + 3);
                }
                if x % 10 == 0 {
                    rows.extend(top + 9..top + 12);
                }
                for y in rows {
                    let y = if upside_down { 239 - y } else { y };
                    pts.push([x, y as u16]);
                }
            }
        }
        Ink {
            w: 200,
            h: 240,
            pts,
            wts: Vec::new(),
        }
    }

    #[test]
    fn tells_up_from_down() {
        assert!(updown(&text(false), 0.0, 50) > 0.1);
        assert!(updown(&text(true), 0.0, 50) < -0.1);
        assert_eq!(updown(&Ink::default(), 0.0, 50), 0.0);
        assert!(upside_down(&text(true), 0.0, 50, 0.08));
        assert!(!upside_down(&text(false), 0.0, 50, 0.08));
        assert!(!upside_down(&Ink::default(), 0.0, 50, 0.08));
    }
}
