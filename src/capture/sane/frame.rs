//! Frame assembly: turns the byte stream(s) SANE sends for one page into a
//! `RawPage`, for every format a backend may use: grey and RGB at 1, 8 and
//! 16 bits, three-pass RED/GREEN/BLUE frames, unknown height (hand
//! scanners, `lines = -1`) and padding at line ends.
//!
//! Pure code over byte buffers: never calls SANE, never opens files (a
//! caller may hand in a writer, the tee, that receives the PNM as it comes).
//!
//! Two outputs: `RawPage::pnm()` writes exactly the bytes `scanimage
//! --format=pnm` writes for the same stream (the reference path, including
//! its treatment of line padding), and `RawPage::to_image()` gives a clean
//! pixel buffer with padding removed and 16-bit samples decoded from host
//! order, for the pipeline.

use image::{DynamicImage, GrayImage, ImageBuffer, Luma, Rgb, RgbImage};

use super::device::Parameters;
use super::error::ScanError;

/// `SANE_Frame`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFormat {
    Gray,
    Rgb,
    Red,
    Green,
    Blue,
}

impl FrameFormat {
    pub fn from_raw(f: i32) -> Result<FrameFormat, ScanError> {
        Ok(match f {
            0 => FrameFormat::Gray,
            1 => FrameFormat::Rgb,
            2 => FrameFormat::Red,
            3 => FrameFormat::Green,
            4 => FrameFormat::Blue,
            n => {
                return Err(ScanError::Frame(format!(
                    "frame format {n} is not SANE 1.0"
                )))
            }
        })
    }
    fn plane(self) -> Option<usize> {
        match self {
            FrameFormat::Red => Some(0),
            FrameFormat::Green => Some(1),
            FrameFormat::Blue => Some(2),
            _ => None,
        }
    }
}

/// Validated parameters of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameParams {
    pub format: FrameFormat,
    pub last_frame: bool,
    pub bytes_per_line: usize,
    pub pixels_per_line: usize,
    /// `None` when the backend does not know the height (hand scanner).
    pub lines: Option<usize>,
    pub depth: u8,
}

impl FrameParams {
    pub fn from_sane(p: &Parameters) -> Result<FrameParams, ScanError> {
        let format = FrameFormat::from_raw(p.format)?;
        let depth = match p.depth {
            1 | 8 | 16 => p.depth as u8,
            d => return Err(ScanError::Frame(format!("depth {d} is not supported"))),
        };
        if depth == 1 && format.plane().is_some() {
            return Err(ScanError::Frame(
                "1-bit three-pass frames are not supported".into(),
            ));
        }
        if p.bytes_per_line <= 0 || p.pixels_per_line <= 0 {
            return Err(ScanError::Frame(format!(
                "bad line size: {} bytes, {} pixels",
                p.bytes_per_line, p.pixels_per_line
            )));
        }
        Ok(FrameParams {
            format,
            last_frame: p.last_frame,
            bytes_per_line: p.bytes_per_line as usize,
            pixels_per_line: p.pixels_per_line as usize,
            lines: if p.lines < 0 {
                None
            } else {
                Some(p.lines as usize)
            },
            depth,
        })
    }
}

/// Whether a page arrived whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Whole,
    /// Fewer bytes than announced, or the read failed mid-page.
    CutShort {
        got: u64,
        expected: u64,
    },
}

/// One page exactly as the scanner sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawPage {
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    pub depth: u8,
    pub pixels_per_line: usize,
    /// Bytes per line of `data` (padding included).
    pub bytes_per_line: usize,
    /// The height scanimage would put in the PNM header.
    pub header_lines: usize,
    /// Samples in host byte order, interleaved, lines of `bytes_per_line`.
    pub data: Vec<u8>,
    /// True when `data` came as one stream with a known height (scanimage
    /// then writes every byte received); false for buffered pages (three-pass
    /// or unknown height), of which only whole lines are kept.
    streamed: bool,
    /// Bytes that went to a tee instead of `data` (then empty).
    sunk: Option<u64>,
    pub completeness: Completeness,
}

/// A writer that receives a page's PNM (the bytes of `RawPage::pnm()`).
pub type Tee = Box<dyn std::io::Write + Send>;

/// Collects the frames of one page.
#[derive(Default)]
pub struct PageAssembler {
    frames: Vec<(FrameParams, Vec<u8>, bool)>,
    tee: Option<TeeState>,
    /// Bytes written to a live tee and not held.
    sunk: u64,
}

/// The tee and where it stands: a page sent as one stream of known height
/// is written as it arrives (header first, as scanimage does); any other
/// page is written whole by `finish`.
struct TeeState {
    w: Tee,
    live: bool,
    swap16: bool,
    /// The first byte of a 16-bit sample split across two reads.
    carry: Option<u8>,
    error: Option<std::io::Error>,
}

impl TeeState {
    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let r = if self.swap16 {
            self.write_swapped(bytes)
        } else {
            self.w.write_all(bytes)
        };
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    /// 16-bit samples arrive in host order; PNM wants big-endian.
    fn write_swapped(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        if let Some(first) = self.carry.take() {
            let Some((&second, rest)) = bytes.split_first() else {
                self.carry = Some(first);
                return Ok(());
            };
            self.w.write_all(&[second, first])?;
            bytes = rest;
        }
        let mut buf = [0u8; 1 << 14];
        let mut chunks = bytes.chunks_exact(buf.len());
        for c in &mut chunks {
            buf.copy_from_slice(c);
            swap_pairs(&mut buf);
            self.w.write_all(&buf)?;
        }
        let rest = chunks.remainder();
        let even = rest.len() & !1;
        buf[..even].copy_from_slice(&rest[..even]);
        swap_pairs(&mut buf[..even]);
        self.w.write_all(&buf[..even])?;
        // A trailing odd byte waits for its pair (and is dropped if none
        // comes, as scanimage does).
        self.carry = rest.get(even).copied();
        Ok(())
    }
}

fn swap_pairs(b: &mut [u8]) {
    for pair in b.chunks_exact_mut(2) {
        pair.swap(0, 1);
    }
}

impl std::fmt::Debug for PageAssembler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageAssembler")
            .field("frames", &self.frames.len())
            .field("tee", &self.tee.is_some())
            .finish()
    }
}

impl PageAssembler {
    pub fn new() -> PageAssembler {
        PageAssembler::default()
    }

    /// An assembler that writes the page's PNM to `tee`: as it arrives when
    /// the page comes as one stream of known height (so the file grows
    /// while the scanner works, and the bytes are not held: the page's
    /// `data` stays empty), else whole at `finish`.
    pub fn with_tee(tee: Tee) -> PageAssembler {
        PageAssembler {
            frames: Vec::new(),
            sunk: 0,
            tee: Some(TeeState {
                w: tee,
                live: false,
                swap16: false,
                carry: None,
                error: None,
            }),
        }
    }

    /// Starts a frame with the parameters read after `sane_start`.
    pub fn begin_frame(&mut self, p: FrameParams) -> Result<(), ScanError> {
        if let Some((first, _, _)) = self.frames.first() {
            if first.format.plane().is_none() || p.format.plane().is_none() {
                return Err(ScanError::Frame(
                    "a second frame must be RED, GREEN or BLUE".into(),
                ));
            }
            if p.depth != first.depth || p.pixels_per_line != first.pixels_per_line {
                return Err(ScanError::Frame("frames of one page differ in size".into()));
            }
            if self.frames.iter().any(|(f, _, _)| f.format == p.format) {
                return Err(ScanError::Frame(format!("{:?} frame sent twice", p.format)));
            }
        }
        if self.frames.len() >= 3 {
            return Err(ScanError::Frame("more than three frames".into()));
        }
        let cap = p
            .lines
            .map(|l| l.saturating_mul(p.bytes_per_line))
            .unwrap_or(1 << 20)
            .min(1 << 30);
        self.frames.push((p, Vec::with_capacity(cap), false));
        let streams = self.frames.len() == 1
            && p.format.plane().is_none()
            && p.lines.is_some()
            && !(p.depth == 1 && p.format == FrameFormat::Rgb);
        if let (Some(t), true, Some(lines)) = (self.tee.as_mut(), streams, p.lines) {
            let channels = if p.format == FrameFormat::Rgb { 3 } else { 1 };
            let header = pnm_header(channels, p.depth, p.pixels_per_line, lines);
            t.live = true;
            t.swap16 = p.depth == 16 && cfg!(target_endian = "little");
            if let Err(e) = t.w.write_all(header.as_bytes()) {
                t.error = Some(e);
            }
        }
        Ok(())
    }

    /// Appends bytes of the current frame.
    pub fn push(&mut self, bytes: &[u8]) {
        if let Some(t) = self.tee.as_mut().filter(|t| t.live) {
            t.write(bytes);
            self.sunk += bytes.len() as u64;
        } else if let Some((_, v, _)) = self.frames.last_mut() {
            v.extend_from_slice(bytes);
        }
    }

    /// Marks the current frame as ended by EOF.
    pub fn end_frame(&mut self) {
        if let Some((_, _, done)) = self.frames.last_mut() {
            *done = true;
        }
    }

    /// Whether another frame must follow (three-pass).
    pub fn needs_more_frames(&self) -> bool {
        self.frames.last().is_some_and(|(p, _, _)| !p.last_frame)
    }

    /// Bytes received so far for this page.
    pub fn bytes(&self) -> u64 {
        self.sunk
            + self
                .frames
                .iter()
                .map(|(_, v, _)| v.len() as u64)
                .sum::<u64>()
    }

    /// Builds the page. A frame not ended by EOF, a missing frame, or fewer
    /// bytes than announced makes it `CutShort`. With a tee, also completes
    /// and flushes its PNM; a failed write is an `Output` error.
    pub fn finish(mut self) -> Result<RawPage, ScanError> {
        let tee = self.tee.take();
        let page = self.assemble()?;
        if let Some(mut t) = tee {
            if !t.live {
                if let Err(e) = page.write_pnm(&mut t.w) {
                    t.error.get_or_insert(e);
                }
            }
            if let Err(e) = t.w.flush() {
                t.error.get_or_insert(e);
            }
            if let Some(e) = t.error {
                return Err(ScanError::Output(e.to_string()));
            }
        }
        Ok(page)
    }

    fn assemble(self) -> Result<RawPage, ScanError> {
        let Some((first, _, _)) = self.frames.first().cloned() else {
            return Err(ScanError::Frame("no frame".into()));
        };
        let all_ended = self.frames.iter().all(|(_, _, d)| *d)
            && self.frames.last().is_some_and(|(p, _, _)| p.last_frame);
        let got: u64 = self.bytes();
        let three_pass = first.format.plane().is_some();
        let planes_missing = three_pass && self.frames.len() != 3;
        if !three_pass && first.lines.is_some() {
            // One stream with a known height.
            let lines = first.lines.unwrap_or(0);
            let expected = (lines * first.bytes_per_line) as u64;
            let completeness = if all_ended && got >= expected {
                Completeness::Whole
            } else {
                Completeness::CutShort { got, expected }
            };
            let (p, data, _) = self
                .frames
                .into_iter()
                .next()
                .ok_or_else(|| ScanError::Frame("no frame".into()))?;
            return Ok(RawPage {
                channels: if p.format == FrameFormat::Rgb { 3 } else { 1 },
                depth: p.depth,
                pixels_per_line: p.pixels_per_line,
                bytes_per_line: p.bytes_per_line,
                header_lines: lines,
                data,
                streamed: true,
                sunk: (self.sunk > 0).then_some(self.sunk),
                completeness,
            });
        }
        // Buffered: unknown height and/or three frames.
        let bpl = first.bytes_per_line;
        let last_len = self.frames.last().map(|(_, v, _)| v.len()).unwrap_or(0);
        let height = last_len / bpl;
        let mut expected = 0u64;
        let mut short = !all_ended || planes_missing;
        for (p, v, _) in &self.frames {
            if let Some(l) = p.lines {
                let e = (l * p.bytes_per_line) as u64;
                expected += e;
                if (v.len() as u64) < e {
                    short = true;
                }
            } else {
                expected += v.len() as u64;
            }
            if v.len() / bpl != height {
                short = true;
            }
        }
        if planes_missing {
            expected = expected.max(got) + 1;
        }
        let completeness = if short {
            Completeness::CutShort { got, expected }
        } else {
            Completeness::Whole
        };
        let (channels, data, line) = if three_pass {
            let sample = if first.depth == 16 { 2 } else { 1 };
            let mut out = vec![0u8; height * bpl * 3];
            for (p, v, _) in &self.frames {
                let Some(c) = p.format.plane() else { continue };
                let n = v.len().min(height * bpl) / sample;
                for i in 0..n {
                    let dst = (i * 3 + c) * sample;
                    out[dst..dst + sample].copy_from_slice(&v[i * sample..(i + 1) * sample]);
                }
            }
            (3u8, out, bpl * 3)
        } else {
            let (p, mut v, _) = self
                .frames
                .into_iter()
                .next()
                .ok_or_else(|| ScanError::Frame("no frame".into()))?;
            v.truncate(height * bpl);
            (if p.format == FrameFormat::Rgb { 3 } else { 1 }, v, bpl)
        };
        Ok(RawPage {
            channels,
            depth: first.depth,
            pixels_per_line: first.pixels_per_line,
            bytes_per_line: line,
            header_lines: height,
            data,
            streamed: false,
            sunk: None,
            completeness,
        })
    }
}

/// The PNM header scanimage writes for a page of this shape.
fn pnm_header(channels: u8, depth: u8, w: usize, h: usize) -> String {
    let maxval = if depth <= 8 { 255 } else { 65535 };
    if channels == 3 {
        format!("P6\n# SANE data follows\n{w} {h}\n{maxval}\n")
    } else if depth == 1 {
        format!("P4\n# SANE data follows\n{w} {h}\n")
    } else {
        format!("P5\n# SANE data follows\n{w} {h}\n{maxval}\n")
    }
}

impl RawPage {
    pub fn is_whole(&self) -> bool {
        self.completeness == Completeness::Whole
    }

    /// Bytes the scanner sent for this page (held or written to a tee).
    pub fn received(&self) -> u64 {
        self.sunk.unwrap_or(self.data.len() as u64)
    }

    fn refuse_sunk(&self) -> Result<(), ScanError> {
        match self.sunk {
            Some(_) => Err(ScanError::Output(
                "the page's bytes went to its file and are not held".into(),
            )),
            None => Ok(()),
        }
    }

    /// The PNM header scanimage writes for this page.
    pub fn pnm_header(&self) -> String {
        pnm_header(
            self.channels,
            self.depth,
            self.pixels_per_line,
            self.header_lines,
        )
    }

    /// The bytes of `scanimage --format=pnm` for the same stream: header,
    /// then the data with 16-bit samples turned big-endian.
    pub fn pnm(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 64);
        // Writing to a Vec cannot fail; a page whose bytes went to a tee
        // gives nothing.
        let _ = self.write_pnm(&mut out);
        out
    }

    /// Writes the same bytes as `pnm()` without building them in memory.
    pub fn write_pnm(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        self.refuse_sunk().map_err(std::io::Error::other)?;
        if self.depth == 1 && self.channels == 3 {
            // scanimage cannot write 1-bit RGB (it asserts); write a valid
            // 8-bit PPM with each bit as 0 or 255.
            if let Ok(img) = self.to_image() {
                let rgb = img.into_rgb8();
                write!(
                    w,
                    "P6\n# SANE data follows\n{} {}\n255\n",
                    rgb.width(),
                    rgb.height()
                )?;
                return w.write_all(rgb.as_raw());
            }
        }
        w.write_all(self.pnm_header().as_bytes())?;
        if self.depth == 16 && cfg!(target_endian = "little") {
            // Streamed pages drop a trailing odd byte, as scanimage does.
            let even = self.data.len() & !1;
            let body = if self.streamed {
                &self.data[..even]
            } else {
                &self.data[..]
            };
            let mut buf = Vec::with_capacity(1 << 16);
            for chunk in body.chunks(1 << 16) {
                buf.clear();
                buf.extend_from_slice(chunk);
                swap_pairs(&mut buf);
                w.write_all(&buf)?;
            }
            Ok(())
        } else {
            w.write_all(&self.data)
        }
    }

    /// Whether lines carry bytes beyond their pixels (or the page is 1-bit
    /// RGB, which PNM cannot hold as sent).
    pub fn has_padding(&self) -> bool {
        let ch = self.channels as usize;
        let need = match self.depth {
            1 => (self.pixels_per_line * ch).div_ceil(8),
            8 => self.pixels_per_line * ch,
            _ => self.pixels_per_line * ch * 2,
        };
        need != self.bytes_per_line || (self.depth == 1 && ch == 3)
    }

    /// Whole lines available in `data` (at most the header height).
    pub fn whole_lines(&self) -> usize {
        (self.data.len() / self.bytes_per_line.max(1)).min(self.header_lines)
    }

    /// The page as pixels: padding removed, 1-bit expanded to 8-bit grey
    /// (SANE: 1 = black), 16-bit decoded from host order.
    pub fn to_image(&self) -> Result<DynamicImage, ScanError> {
        self.refuse_sunk()?;
        let w = self.pixels_per_line;
        let h = self.whole_lines();
        let ch = self.channels as usize;
        let need = match self.depth {
            1 => (w * ch).div_ceil(8),
            8 => w * ch,
            _ => w * ch * 2,
        };
        if need > self.bytes_per_line {
            return Err(ScanError::Frame(format!(
                "{} bytes per line cannot hold {w} pixels",
                self.bytes_per_line
            )));
        }
        let (wu, hu) = (
            u32::try_from(w).map_err(|_| ScanError::Frame("too wide".into()))?,
            u32::try_from(h).map_err(|_| ScanError::Frame("too tall".into()))?,
        );
        let rows = self
            .data
            .chunks_exact(self.bytes_per_line)
            .take(h)
            .map(|l| &l[..need]);
        let too_big = || ScanError::Frame("pixel buffer size mismatch".into());
        Ok(match (self.depth, ch) {
            (1, 1) => {
                let mut px = Vec::with_capacity(w * h);
                for row in rows {
                    for x in 0..w {
                        let bit = row[x / 8] >> (7 - (x % 8)) & 1;
                        px.push(if bit == 1 { 0 } else { 255 });
                    }
                }
                DynamicImage::ImageLuma8(GrayImage::from_raw(wu, hu, px).ok_or_else(too_big)?)
            }
            (1, _) => {
                // 1-bit RGB: three bits per pixel, R G B, 1 = channel on.
                let mut px = Vec::with_capacity(w * h * 3);
                for row in rows {
                    for i in 0..w * 3 {
                        px.push(if row[i / 8] >> (7 - (i % 8)) & 1 == 1 {
                            255
                        } else {
                            0
                        });
                    }
                }
                DynamicImage::ImageRgb8(RgbImage::from_raw(wu, hu, px).ok_or_else(too_big)?)
            }
            (8, 1) => {
                let px: Vec<u8> = rows.flatten().copied().collect();
                DynamicImage::ImageLuma8(GrayImage::from_raw(wu, hu, px).ok_or_else(too_big)?)
            }
            (8, _) => {
                let px: Vec<u8> = rows.flatten().copied().collect();
                DynamicImage::ImageRgb8(RgbImage::from_raw(wu, hu, px).ok_or_else(too_big)?)
            }
            (_, c) => {
                let px: Vec<u16> = rows
                    .flat_map(|r| r.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])))
                    .collect();
                if c == 1 {
                    DynamicImage::ImageLuma16(
                        ImageBuffer::<Luma<u16>, _>::from_raw(wu, hu, px).ok_or_else(too_big)?,
                    )
                } else {
                    DynamicImage::ImageRgb16(
                        ImageBuffer::<Rgb<u16>, _>::from_raw(wu, hu, px).ok_or_else(too_big)?,
                    )
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(format: FrameFormat, bpl: usize, ppl: usize, lines: i64, depth: u8) -> FrameParams {
        FrameParams {
            format,
            last_frame: !matches!(format, FrameFormat::Red | FrameFormat::Green),
            bytes_per_line: bpl,
            pixels_per_line: ppl,
            lines: if lines < 0 {
                None
            } else {
                Some(lines as usize)
            },
            depth,
        }
    }

    /// A tee that keeps what it was given, for comparison.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Feeds `frames` to an assembler, each in reads of `step` bytes.
    fn feed(mut a: PageAssembler, frames: &[(FrameParams, Vec<u8>)], step: usize) -> RawPage {
        for (p, bytes) in frames {
            a.begin_frame(*p).unwrap();
            for c in bytes.chunks(step) {
                a.push(c);
            }
            a.end_frame();
        }
        a.finish().unwrap()
    }

    #[test]
    fn tee_gets_exactly_the_pnm_for_every_shape_and_read_size() {
        let ramp = |n: usize| (0..n).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>();
        let shapes: Vec<Vec<(FrameParams, Vec<u8>)>> = vec![
            vec![(params(FrameFormat::Gray, 5, 4, 3, 8), ramp(15))],
            // 16-bit with an odd trailing byte (dropped, as scanimage does).
            vec![(params(FrameFormat::Rgb, 12, 2, 2, 16), ramp(25))],
            vec![(params(FrameFormat::Gray, 1, 8, 4, 1), ramp(4))],
            vec![(params(FrameFormat::Gray, 4, 2, -1, 16), ramp(12))],
            vec![
                (params(FrameFormat::Red, 3, 3, 2, 8), ramp(6)),
                (params(FrameFormat::Green, 3, 3, 2, 8), ramp(6)),
                (params(FrameFormat::Blue, 3, 3, 2, 8), ramp(6)),
            ],
        ];
        for frames in &shapes {
            let reference = feed(PageAssembler::new(), frames, 1 << 20).pnm();
            for step in [1, 2, 3, 7, 1 << 20] {
                let out = Shared::default();
                let page = feed(PageAssembler::with_tee(Box::new(out.clone())), frames, step);
                let got = out.0.lock().unwrap().clone();
                assert_eq!(got, reference, "{:?} in reads of {step}", frames[0].0);
                let whole = feed(PageAssembler::new(), frames, step);
                assert_eq!(page.completeness, whole.completeness);
                assert_eq!(page.received(), whole.received());
            }
        }
    }

    #[test]
    fn a_streamed_page_is_not_held_and_says_so() {
        let out = Shared::default();
        let frames = [(params(FrameFormat::Gray, 2, 2, 2, 8), vec![1, 2, 3, 4])];
        let page = feed(PageAssembler::with_tee(Box::new(out)), &frames, 3);
        assert!(page.is_whole());
        assert!(page.data.is_empty());
        assert_eq!(page.received(), 4);
        assert!(matches!(page.to_image(), Err(ScanError::Output(_))));
    }

    #[test]
    fn a_failing_tee_is_an_output_error() {
        struct Full;
        impl std::io::Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("No space left on device"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let frames = [(params(FrameFormat::Gray, 2, 2, 2, 8), vec![1, 2, 3, 4])];
        let mut a = PageAssembler::with_tee(Box::new(Full));
        a.begin_frame(frames[0].0).unwrap();
        a.push(&frames[0].1);
        a.end_frame();
        match a.finish() {
            Err(ScanError::Output(m)) => assert!(m.contains("No space"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gray8_with_padding_strips_it_for_pixels_but_not_for_pnm() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 4, 3, 2, 8))
            .unwrap();
        a.push(&[1, 2, 3, 99, 4, 5]);
        a.push(&[6, 99]);
        a.end_frame();
        let p = a.finish().unwrap();
        assert!(p.is_whole());
        assert_eq!(
            p.pnm(),
            b"P5\n# SANE data follows\n3 2\n255\n\x01\x02\x03\x63\x04\x05\x06\x63".to_vec()
        );
        let img = p.to_image().unwrap().into_luma8();
        assert_eq!(img.into_raw(), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn short_stream_is_cut_short() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 4, 4, 2, 8))
            .unwrap();
        a.push(&[1, 2, 3, 4, 5]);
        a.end_frame();
        let p = a.finish().unwrap();
        assert_eq!(
            p.completeness,
            Completeness::CutShort {
                got: 5,
                expected: 8
            }
        );
        // A frame never ended by EOF is cut short even with all bytes.
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 2, 2, 1, 8))
            .unwrap();
        a.push(&[1, 2]);
        assert!(!a.finish().unwrap().is_whole());
    }

    #[test]
    fn sixteen_bit_is_big_endian_in_pnm_and_host_in_pixels() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Rgb, 6, 1, 1, 16))
            .unwrap();
        let samples: [u16; 3] = [0x0102, 0x0304, 0xA0B0];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_ne_bytes()).collect();
        a.push(&bytes);
        a.end_frame();
        let p = a.finish().unwrap();
        let pnm = p.pnm();
        assert!(pnm.ends_with(&[1, 2, 3, 4, 0xA0, 0xB0]));
        assert!(pnm.starts_with(b"P6\n# SANE data follows\n1 1\n65535\n"));
        let img = p.to_image().unwrap().into_rgb16();
        assert_eq!(img.into_raw(), samples.to_vec());
    }

    #[test]
    fn one_bit_is_p4_and_one_means_black() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 1, 3, 1, 1))
            .unwrap();
        a.push(&[0b1010_0000]);
        a.end_frame();
        let p = a.finish().unwrap();
        assert!(p.pnm().starts_with(b"P4\n# SANE data follows\n3 1\n"));
        assert_eq!(
            p.to_image().unwrap().into_luma8().into_raw(),
            vec![0, 255, 0]
        );
    }

    #[test]
    fn three_pass_interleaves_by_colour_not_by_order() {
        let mut a = PageAssembler::new();
        for (f, v) in [
            (FrameFormat::Blue, [30u8, 31]),
            (FrameFormat::Red, [10, 11]),
            (FrameFormat::Green, [20, 21]),
        ] {
            let mut p = params(f, 2, 2, 1, 8);
            p.last_frame = f == FrameFormat::Green;
            a.begin_frame(p).unwrap();
            a.push(&v);
            a.end_frame();
        }
        let p = a.finish().unwrap();
        assert!(p.is_whole());
        assert_eq!(p.data, vec![10, 20, 30, 11, 21, 31]);
        assert!(p.pnm().starts_with(b"P6\n# SANE data follows\n2 1\n255\n"));
    }

    #[test]
    fn unknown_height_keeps_whole_lines() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 3, 3, -1, 8))
            .unwrap();
        a.push(&[1, 2, 3, 4, 5, 6, 7]);
        a.end_frame();
        let p = a.finish().unwrap();
        assert!(p.is_whole());
        assert_eq!(p.header_lines, 2);
        assert_eq!(p.data.len(), 6);
    }

    #[test]
    fn rejects_bad_frames() {
        let mut a = PageAssembler::new();
        a.begin_frame(params(FrameFormat::Gray, 3, 3, 1, 8))
            .unwrap();
        assert!(a.begin_frame(params(FrameFormat::Red, 3, 3, 1, 8)).is_err());
        let p = Parameters {
            format: 9,
            last_frame: true,
            bytes_per_line: 1,
            pixels_per_line: 1,
            lines: 1,
            depth: 8,
        };
        assert!(FrameParams::from_sane(&p).is_err());
    }
}
