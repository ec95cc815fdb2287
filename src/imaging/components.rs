//! Connected components of an ink mask (8-connected), with the size and
//! box of each, and the rule that tells text-like ink from specks of dust
//! and solid blobs (punch holes, black bars, dark pictures).
//!
//! Written by hand: a two-pass union-find over a bool mask is a few dozen
//! lines, and the imaging crates that offer it would bring a large
//! dependency for one function.

/// One component: pixel count and bounding box (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct Comp {
    pub count: u32,
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Comp {
    pub fn bw(&self) -> u32 {
        self.x1 - self.x0 + 1
    }
    pub fn bh(&self) -> u32 {
        self.y1 - self.y0 + 1
    }
}

/// Labels components; `labels[i]` is 0 for background, else index+1 into the
/// returned list.
pub fn label(mask: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<Comp>) {
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    fn find(parent: &mut [u32], mut a: u32) -> u32 {
        while parent[a as usize] != a {
            let p = parent[parent[a as usize] as usize];
            parent[a as usize] = p;
            a = p;
        }
        a
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask[i] {
                continue;
            }
            let mut best = 0u32;
            let mut neigh = [0u32; 4];
            if x > 0 {
                neigh[0] = labels[i - 1];
            }
            if y > 0 {
                let up = i - w;
                neigh[1] = labels[up];
                if x > 0 {
                    neigh[2] = labels[up - 1];
                }
                if x + 1 < w {
                    neigh[3] = labels[up + 1];
                }
            }
            for &n in &neigh {
                if n != 0 {
                    let r = find(&mut parent, n);
                    if best == 0 {
                        best = r;
                    } else if r != best {
                        let (lo, hi) = if r < best { (r, best) } else { (best, r) };
                        parent[hi as usize] = lo;
                        best = lo;
                    }
                }
            }
            if best == 0 {
                best = parent.len() as u32;
                parent.push(best);
            }
            labels[i] = best;
        }
    }
    // Flatten to dense indices.
    let mut dense = vec![0u32; parent.len()];
    let mut comps: Vec<Comp> = Vec::new();
    for l in 1..parent.len() as u32 {
        let r = find(&mut parent, l);
        if r == l {
            comps.push(Comp {
                count: 0,
                x0: u32::MAX,
                y0: u32::MAX,
                x1: 0,
                y1: 0,
            });
            dense[l as usize] = comps.len() as u32;
        }
    }
    for l in 1..parent.len() as u32 {
        let r = find(&mut parent, l);
        dense[l as usize] = dense[r as usize];
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if labels[i] != 0 {
                let d = dense[labels[i] as usize];
                labels[i] = d;
                let c = &mut comps[d as usize - 1];
                c.count += 1;
                c.x0 = c.x0.min(x as u32);
                c.y0 = c.y0.min(y as u32);
                c.x1 = c.x1.max(x as u32);
                c.y1 = c.y1.max(y as u32);
            }
        }
    }
    (labels, comps)
}

/// A horizontal run of set pixels: row `y`, columns `x0..x1`, and the
/// dense component index it belongs to (from 0).
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub y: u32,
    pub x0: u32,
    pub x1: u32,
    pub comp: u32,
}

/// 8-connected components of a mask by runs: the same components as
/// `label`, at the cost of the runs rather than the pixels for the union
/// step (a text page has ~10 times fewer runs than ink pixels).
pub fn label_runs(mask: &[bool], w: usize, h: usize) -> (Vec<Run>, Vec<Comp>) {
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    fn find(parent: &mut [u32], mut a: u32) -> u32 {
        while parent[a as usize] != a {
            let p = parent[parent[a as usize] as usize];
            parent[a as usize] = p;
            a = p;
        }
        a
    }
    let mut prev = 0..0usize; // runs of the previous row
    for y in 0..h {
        let row = &mask[y * w..(y + 1) * w];
        let start = runs.len();
        let mut x = 0;
        let mut p = prev.start;
        while x < w {
            if !row[x] {
                x += 1;
                continue;
            }
            let x0 = x;
            while x < w && row[x] {
                x += 1;
            }
            let id = runs.len() as u32;
            parent.push(id);
            runs.push(Run {
                y: y as u32,
                x0: x0 as u32,
                x1: x as u32,
                comp: id,
            });
            // Previous-row runs touching [x0-1, x] (8-connected).
            while p < prev.end && (runs[p].x1 as usize) < x0 {
                p += 1;
            }
            let mut q = p;
            while q < prev.end && (runs[q].x0 as usize) <= x {
                let (a, b) = (find(&mut parent, id), find(&mut parent, q as u32));
                if a != b {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi as usize] = lo;
                }
                q += 1;
            }
        }
        prev = start..runs.len();
    }
    let mut dense = vec![u32::MAX; runs.len()];
    let mut comps: Vec<Comp> = Vec::new();
    for (i, run) in runs.iter_mut().enumerate() {
        let r = find(&mut parent, i as u32) as usize;
        if dense[r] == u32::MAX {
            dense[r] = comps.len() as u32;
            comps.push(Comp {
                count: 0,
                x0: u32::MAX,
                y0: u32::MAX,
                x1: 0,
                y1: 0,
            });
        }
        let d = dense[r];
        run.comp = d;
        let c = &mut comps[d as usize];
        c.count += run.x1 - run.x0;
        c.x0 = c.x0.min(run.x0);
        c.x1 = c.x1.max(run.x1 - 1);
        c.y0 = c.y0.min(run.y);
        c.y1 = c.y1.max(run.y);
    }
    (runs, comps)
}

/// Whether a component is ink that carries text or rules: not a speck of
/// dust (under `min_px` pixels) and not a solid blob (both sides over
/// `blob_px` and more than half filled).
pub fn is_text_like(c: &Comp, min_px: u32, blob_px: u32) -> bool {
    if c.count < min_px {
        return false;
    }
    let (bw, bh) = (c.bw(), c.bh());
    let fill = c.count as f32 / (bw as f32 * bh as f32);
    !(bw > blob_px && bh > blob_px && fill > 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_u_shape_as_one() {
        // U shape: two arms joined at the bottom.
        #[rustfmt::skip]
        let m = [
            true, false, true,
            true, false, true,
            true, true, true,
        ];
        let (labels, comps) = label(&m, 3, 3);
        assert_eq!(comps.len(), 1);
        assert_eq!(comps[0].count, 7);
        assert!(labels.iter().all(|&l| l <= 1));
    }

    #[test]
    fn separates_and_classifies() {
        let mut m = vec![false; 20 * 20];
        for y in 2..12 {
            for x in 2..12 {
                m[y * 20 + x] = true;
            }
        }
        m[15 * 20 + 15] = true;
        let (_, comps) = label(&m, 20, 20);
        assert_eq!(comps.len(), 2);
        assert!(!is_text_like(&comps[0], 2, 5)); // solid 10x10 blob
        assert!(!is_text_like(&comps[1], 2, 5)); // speck
        assert!(label(&[], 0, 0).1.is_empty());
        assert!(label_runs(&[], 0, 0).1.is_empty());
    }

    #[test]
    fn runs_match_pixel_labels() {
        // A pseudo-random mask: both labellers find the same components.
        let (w, h) = (37, 23);
        let m: Vec<bool> = (0..w * h)
            .map(|i| (i * 7919 + i / w * 31) % 11 < 4)
            .collect();
        let (_, a) = label(&m, w, h);
        let (_, b) = label_runs(&m, w, h);
        let key = |c: &Comp| (c.y0, c.x0, c.count, c.x1, c.y1);
        let mut ka: Vec<_> = a.iter().map(key).collect();
        let mut kb: Vec<_> = b.iter().map(key).collect();
        ka.sort();
        kb.sort();
        assert_eq!(ka, kb);
    }
}
