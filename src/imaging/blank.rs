//! Blank pages: the share of the page covered by text-like ink.
//!
//! Paper texture and bleed-through never reach the ink threshold (it is
//! relative to the local paper level); dust specks and solid blobs such as
//! punch holes are not text-like and are left out. Decides nothing else.

/// `inked` pixels over `page` pixels, 0..1 (0 for an empty page).
pub fn share(inked: u64, page: u64) -> f32 {
    if page == 0 {
        return 0.0;
    }
    (inked as f64 / page as f64).min(1.0) as f32
}

/// Fraction of the page (pixels outside the border) covered by ink whose
/// coarse component is text-like.
///
/// `ink` is the fine mask (`w` x `h`); `keep` is the coarse mask of
/// text-like ink, `bw` x `bh`, each coarse pixel 2x2 fine ones; `border`
/// the coarse border mask.
pub fn coverage(
    ink: &[bool],
    w: usize,
    h: usize,
    keep: &[bool],
    border: &[bool],
    bw: usize,
    bh: usize,
) -> f32 {
    if bw == 0 || bh == 0 {
        return 0.0;
    }
    let mut inked = 0u64;
    for y in 0..h {
        let by = (y / 2).min(bh - 1);
        for x in 0..w {
            if ink[y * w + x] && keep[by * bw + (x / 2).min(bw - 1)] {
                inked += 1;
            }
        }
    }
    let page = border.iter().filter(|&&b| !b).count() as u64 * 4;
    if page == 0 {
        return 0.0;
    }
    (inked as f64 / page as f64).min(1.0) as f32
}

/// Whether a page with this ink coverage is blank.
pub fn is_blank(coverage: f32, max_blank: f32) -> bool {
    coverage < max_blank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_kept_ink() {
        let ink = vec![true; 16];
        let keep = vec![true, false, false, false];
        let border = vec![false; 4];
        let c = coverage(&ink, 4, 4, &keep, &border, 2, 2);
        assert!((c - 0.25).abs() < 1e-6);
        assert_eq!(coverage(&[], 0, 0, &[], &[], 0, 0), 0.0);
        assert!(is_blank(0.0001, 0.001));
    }
}
