//! Whether a file's bytes reach the end of their format: TIFF IFD chain with
//! all strip data present, JPEG EOI, PNG IEND, PNM data length, PDF trailer.
//!
//! Used to tell a file still being written from a finished one, cheaply and
//! without decoding pixels. Pure over bytes; never panics on any input.
//! Written by hand because decoders answer a different question (a decoder
//! may accept a truncated JPEG, padding it with grey).

/// Why a file is not yet whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete(pub String);

fn incomplete<T>(why: impl Into<String>) -> Result<T, Incomplete> {
    Err(Incomplete(why.into()))
}

/// Checks the file reaches the end of its format. Formats this program does
/// not know are reported complete (decoding will judge them).
pub fn check_complete(bytes: &[u8]) -> Result<(), Incomplete> {
    match bytes {
        [] => incomplete("the file is empty"),
        [0x89, b'P', b'N', b'G', ..] => png(bytes),
        [0xFF, 0xD8, ..] => jpeg(bytes),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => tiff(bytes),
        [b'P', b'4'..=b'6', ..] => pnm(bytes),
        [b'P', b'7', ..] => pam(bytes),
        [b'%', b'P', b'D', b'F', ..] => pdf(bytes),
        _ if bytes.len() < 8 => incomplete("too short to tell its format"),
        _ => Ok(()),
    }
}

fn png(b: &[u8]) -> Result<(), Incomplete> {
    let mut pos = 8;
    loop {
        let Some(len) = b.get(pos..pos + 4) else {
            return incomplete("PNG ends before its IEND chunk");
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let kind = b.get(pos + 4..pos + 8);
        let end = pos.saturating_add(12).saturating_add(len);
        if end > b.len() {
            return incomplete("PNG chunk runs past the end of the file");
        }
        if kind == Some(b"IEND") {
            return Ok(());
        }
        pos = end;
    }
}

fn jpeg(b: &[u8]) -> Result<(), Incomplete> {
    let mut pos = 2;
    loop {
        // Find the next marker.
        while pos < b.len() && b[pos] != 0xFF {
            pos += 1;
        }
        while pos < b.len() && b[pos] == 0xFF {
            pos += 1;
        }
        let Some(&marker) = b.get(pos) else {
            return incomplete("JPEG ends before its end-of-image marker");
        };
        pos += 1;
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let Some(len) = b.get(pos..pos + 2) else {
                    return incomplete("JPEG segment cut short");
                };
                let len = u16::from_be_bytes([len[0], len[1]]) as usize;
                pos += len;
                if pos > b.len() {
                    return incomplete("JPEG segment runs past the end of the file");
                }
                if marker == 0xDA {
                    // Entropy-coded data: skip to the next real marker
                    // (0xFF00 is a stuffed byte, 0xFFD0-D7 are restarts).
                    loop {
                        let Some(off) = b[pos..].iter().position(|&v| v == 0xFF) else {
                            return incomplete("JPEG image data has no end-of-image marker");
                        };
                        pos += off;
                        match b.get(pos + 1) {
                            None => return incomplete("JPEG ends inside its image data"),
                            Some(0x00 | 0xD0..=0xD7 | 0xFF) => pos += 1,
                            Some(_) => break,
                        }
                    }
                }
            }
        }
    }
}

fn tiff(b: &[u8]) -> Result<(), Incomplete> {
    let le = b[0] == b'I';
    let u16_at = |p: usize| {
        b.get(p..p + 2).map(|v| {
            if le {
                u16::from_le_bytes([v[0], v[1]])
            } else {
                u16::from_be_bytes([v[0], v[1]])
            }
        })
    };
    let u32_at = |p: usize| {
        b.get(p..p + 4).map(|v| {
            let a = [v[0], v[1], v[2], v[3]];
            if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            }
        })
    };
    let Some(mut ifd) = u32_at(4) else {
        return incomplete("TIFF header cut short");
    };
    let mut seen = 0;
    while ifd != 0 {
        seen += 1;
        if seen > 10_000 {
            return incomplete("TIFF IFD chain loops");
        }
        let p = ifd as usize;
        let Some(n) = u16_at(p) else {
            return incomplete("TIFF directory lies past the end of the file");
        };
        let entries = p + 2;
        let next_at = entries + n as usize * 12;
        let Some(next) = u32_at(next_at) else {
            return incomplete("TIFF directory cut short");
        };
        // Read an array tag (SHORT or LONG) as u32 values.
        let values = |tag: u16| -> Option<Vec<u32>> {
            (0..n as usize).find_map(|i| {
                let e = entries + i * 12;
                if u16_at(e)? != tag {
                    return None;
                }
                let (typ, count) = (u16_at(e + 2)?, u32_at(e + 4)? as usize);
                let size = match typ {
                    3 => 2,
                    4 => 4,
                    _ => return Some(vec![]),
                };
                let base = if size * count <= 4 {
                    e + 8
                } else {
                    u32_at(e + 8)? as usize
                };
                (0..count.min(1 << 20))
                    .map(|k| {
                        if size == 2 {
                            u16_at(base + k * 2).map(u32::from)
                        } else {
                            u32_at(base + k * 4)
                        }
                    })
                    .collect()
            })
        };
        for (off_tag, len_tag) in [(273, 279), (324, 325)] {
            match (values(off_tag), values(len_tag)) {
                (Some(offs), Some(lens)) => {
                    for (o, l) in offs.iter().zip(&lens) {
                        if *o as u64 + *l as u64 > b.len() as u64 {
                            return incomplete("TIFF image data runs past the end of the file");
                        }
                    }
                }
                (Some(_), None) | (None, Some(_)) => {
                    return incomplete("TIFF directory lists data it cannot reach");
                }
                (None, None) => {}
            }
        }
        ifd = next;
    }
    Ok(())
}

fn pnm(b: &[u8]) -> Result<(), Incomplete> {
    // Header: magic, width, height, [maxval], separated by white space and comments.
    let fields = if b[1] == b'4' { 2 } else { 3 };
    let mut nums = Vec::new();
    let mut pos = 2;
    while nums.len() < fields {
        while pos < b.len() && (b[pos].is_ascii_whitespace() || b[pos] == b'#') {
            if b[pos] == b'#' {
                while pos < b.len() && b[pos] != b'\n' {
                    pos += 1;
                }
            } else {
                pos += 1;
            }
        }
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        let Some(n) = std::str::from_utf8(&b[start..pos])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            return incomplete("PNM header cut short");
        };
        nums.push(n);
    }
    pos += 1; // the single white-space byte before the data
    let (w, h) = (nums[0], nums[1]);
    let sample = if fields == 3 && nums[2] > 255 { 2 } else { 1 };
    // Saturating: a header may promise absurd sizes; it is then just short.
    let need = match b[1] {
        b'4' => w.div_ceil(8).saturating_mul(h),
        b'5' => w.saturating_mul(h).saturating_mul(sample),
        _ => w.saturating_mul(h).saturating_mul(3 * sample),
    };
    if (b.len() as u64) < (pos as u64).saturating_add(need) {
        return incomplete(format!(
            "PNM has {} of {} data bytes",
            b.len().saturating_sub(pos),
            need
        ));
    }
    Ok(())
}

/// PAM (P7): a text header of `KEY value` lines up to `ENDHDR`.
fn pam(b: &[u8]) -> Result<(), Incomplete> {
    let Some(end) = b.windows(7).position(|w| w == b"ENDHDR\n") else {
        return incomplete("PAM header cut short");
    };
    let header = String::from_utf8_lossy(&b[..end]);
    let field = |key: &str| -> u64 {
        header
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    };
    let sample = if field("MAXVAL") > 255 { 2 } else { 1 };
    let need = field("WIDTH")
        .saturating_mul(field("HEIGHT"))
        .saturating_mul(field("DEPTH"))
        .saturating_mul(sample);
    if ((b.len() - end - 7) as u64) < need {
        return incomplete("PAM data cut short");
    }
    Ok(())
}

fn pdf(b: &[u8]) -> Result<(), Incomplete> {
    let tail = &b[b.len().saturating_sub(2048)..];
    let trimmed = tail
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|i| &tail[..=i])
        .unwrap_or(&[]);
    if !trimmed.ends_with(b"%%EOF") {
        return incomplete("PDF has no %%EOF at its end");
    }
    if !tail.windows(9).any(|w| w == b"startxref") {
        return incomplete("PDF has no startxref trailer");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, GrayImage, Luma};
    use std::io::Cursor;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(97, 61, |x, y| {
            Luma([(x * 7 + y * 13) as u8])
        }));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    #[test]
    fn whole_files_are_complete_and_every_cut_is_not() {
        for format in [
            image::ImageFormat::Png,
            image::ImageFormat::Jpeg,
            image::ImageFormat::Tiff,
            image::ImageFormat::Pnm,
        ] {
            let whole = encoded(format);
            assert_eq!(check_complete(&whole), Ok(()), "{format:?}");
            for cut in [1, whole.len() / 3, whole.len() / 2, whole.len() - 1] {
                assert!(
                    check_complete(&whole[..cut]).is_err(),
                    "{format:?} cut at {cut} of {}",
                    whole.len()
                );
            }
        }
    }

    #[test]
    fn absurd_pnm_headers_are_incomplete_not_a_panic() {
        // Found by the `decode` fuzz target: the size product overflowed.
        assert!(check_complete(b"P6\n99999999999 99999999999\n65535\n\x00").is_err());
        assert!(check_complete(
            b"P7\nWIDTH 99999999999\nHEIGHT 99999999999\nDEPTH 9\nMAXVAL 65535\nENDHDR\n"
        )
        .is_err());
    }

    #[test]
    fn pdf_needs_its_trailer() {
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\n";
        assert_eq!(check_complete(pdf), Ok(()));
        assert!(check_complete(&pdf[..pdf.len() - 8]).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 7u32;
        for len in 0..400 {
            let mut v: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            for head in [
                &b"II*\0"[..],
                b"MM\0*",
                b"\x89PNG",
                b"\xFF\xD8",
                b"P5",
                b"%PDF",
            ] {
                let n = head.len().min(v.len());
                v[..n].copy_from_slice(&head[..n]);
                let _ = check_complete(&v);
            }
        }
    }
}
