//! Downsampling to the storage resolution (e.g. scanned at 300 dpi, stored
//! at 200) with a triangle (linear) filter widened to the scale, in integer
//! arithmetic, for 8-bit grey and RGB pages.
//!
//! Why by hand: the `image` crate's `resize` does the same filter in floats
//! with per-pixel work several times slower (see `benches/codec.rs`), and
//! this is one pass of a step that must stay well under 100 ms per page; the
//! SIMD resizers are large dependencies for one fixed filter.
//!
//! Pure pixel code: never touches files, never panics on any size.

/// Weights are fixed point with this many fraction bits.
const WBITS: u32 = 14;

/// Filter taps of one output coordinate: first source index and weights.
struct Taps {
    start: usize,
    weights: Vec<i32>,
}

/// Taps for resampling `src` samples to `dst` samples (any ratio; for
/// upsampling the filter is plain linear interpolation).
fn taps(src: usize, dst: usize) -> Vec<Taps> {
    let scale = dst as f64 / src as f64;
    let radius = if scale < 1.0 { 1.0 / scale } else { 1.0 };
    (0..dst)
        .map(|i| {
            let centre = (i as f64 + 0.5) / scale - 0.5;
            let lo = ((centre - radius).floor() as i64 + 1).max(0) as usize;
            let hi = ((centre + radius).ceil() as i64 - 1).clamp(0, src as i64 - 1) as usize;
            let lo = lo.min(hi);
            let raw: Vec<f64> = (lo..=hi)
                .map(|j| (1.0 - (j as f64 - centre).abs() / radius).max(0.0))
                .collect();
            let sum: f64 = raw.iter().sum();
            let mut weights: Vec<i32> = if sum > 0.0 {
                raw.iter()
                    .map(|w| (w / sum * (1 << WBITS) as f64).round() as i32)
                    .collect()
            } else {
                vec![0; raw.len()]
            };
            // Put the rounding error on the biggest weight: sums are exact.
            let err = (1 << WBITS) - weights.iter().sum::<i32>();
            if let Some(m) = (0..weights.len()).max_by_key(|&k| weights[k]) {
                weights[m] += err;
            }
            Taps { start: lo, weights }
        })
        .collect()
}

/// Pads every tap list to the same length (zero weights), moving windows
/// that would run past the end back inside: the inner loops then have a
/// fixed trip count and no bounds to check per tap.
fn pad(taps: &mut [Taps], src: usize) -> usize {
    let n = taps
        .iter()
        .map(|t| t.weights.len())
        .max()
        .unwrap_or(1)
        .min(src);
    for t in taps.iter_mut() {
        t.weights.resize(n, 0);
        let over = (t.start + n).saturating_sub(src);
        if over > 0 {
            t.start -= over;
            t.weights.rotate_right(over);
        }
    }
    n
}

/// Resamples `channels`-interleaved 8-bit pixels from `sw`x`sh` to
/// `dw`x`dh`. Returns None on sizes that do not match the buffer.
pub fn resample(
    src: &[u8],
    sw: usize,
    sh: usize,
    channels: usize,
    dw: usize,
    dh: usize,
) -> Option<Vec<u8>> {
    if channels == 0 || src.len() != sw * sh * channels || sw == 0 || sh == 0 {
        return None;
    }
    if dw == 0 || dh == 0 {
        return Some(Vec::new());
    }
    match channels {
        1 => Some(run::<1>(src, sw, sh, dw, dh)),
        3 => Some(run::<3>(src, sw, sh, dw, dh)),
        _ => None,
    }
}

fn run<const C: usize>(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut htaps = taps(sw, dw);
    let hn = pad(&mut htaps, sw);
    let vtaps = taps(sh, dh);
    let row_in = sw * C;
    let row_out = dw * C;
    let mut out = vec![0u8; dh * row_out];
    // Vertical pass first (whole rows, vectorised) into 8.8 fixed point,
    // then the horizontal pass on the fewer output rows.
    let mut acc = vec![0i32; row_in];
    let mut mid = vec![0u16; row_in];
    for (t, orow) in vtaps.iter().zip(out.chunks_exact_mut(row_out)) {
        acc.fill(1 << (WBITS - 9));
        for (k, &w) in t.weights.iter().enumerate() {
            let srow = &src[(t.start + k) * row_in..(t.start + k + 1) * row_in];
            for (a, &v) in acc.iter_mut().zip(srow) {
                *a += w * v as i32;
            }
        }
        for (m, &a) in mid.iter_mut().zip(&acc) {
            *m = (a >> (WBITS - 8)).clamp(0, 0xFFFF) as u16;
        }
        for (t, o) in htaps.iter().zip(orow.chunks_exact_mut(C)) {
            let win = &mid[t.start * C..(t.start + hn) * C];
            let mut sum = [1i32 << (WBITS + 7); C];
            for (px, &w) in win.chunks_exact(C).zip(&t.weights) {
                for c in 0..C {
                    sum[c] += w * px[c] as i32;
                }
            }
            for c in 0..C {
                o[c] = (sum[c] >> (WBITS + 8)).clamp(0, 255) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_stays_flat_and_edges_stay_put() {
        let (sw, sh) = (300, 30);
        let src: Vec<u8> = (0..sw * sh)
            .flat_map(|i| {
                let x = i % sw;
                let v = if x < 150 { 20u8 } else { 230 };
                [v, 100, 255]
            })
            .collect();
        let out = resample(&src, sw, sh, 3, 200, 20).unwrap();
        assert_eq!(out.len(), 200 * 20 * 3);
        for y in 0..20 {
            let px = |x: usize| &out[(y * 200 + x) * 3..(y * 200 + x) * 3 + 3];
            assert_eq!(px(10), [20, 100, 255]);
            assert_eq!(px(190), [230, 100, 255]);
            // The edge at 150 source = 100 output stays between 99 and 100.
            assert!(
                px(98)[0] < 40 && px(101)[0] > 210,
                "{:?} {:?}",
                px(98),
                px(101)
            );
        }
    }

    #[test]
    fn odd_sizes_do_not_panic() {
        for (sw, sh, dw, dh) in [(1, 1, 1, 1), (3, 1, 1, 1), (1, 7, 1, 2), (5, 5, 9, 9)] {
            let src = vec![7u8; sw * sh];
            let out = resample(&src, sw, sh, 1, dw, dh).unwrap();
            assert!(out.iter().all(|&v| v == 7), "{sw}x{sh}->{dw}x{dh}");
        }
        assert!(resample(&[0; 5], 2, 2, 1, 1, 1).is_none());
    }
}
