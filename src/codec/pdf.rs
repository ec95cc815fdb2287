//! One PDF per case (trường hợp): the case's page images, G4 embedded
//! without re-encoding (CCITTFaxDecode K=-1); colour and grey JPEG pages
//! either embedded as they are (DCTDecode, `output.pdf_pages = "embed"`) or
//! layered (`"layered"`, see `layers`: a background JPEG over the whole
//! page, then the ink colour JPEG through an explicit `/Mask`, a G4 image
//! mask finer than the page, see `layers::LayerParams::mask_dpi`); `"auto"`
//! (the default) embeds a JPEG that fits the page budget and layers one
//! that does not. Each page is sized from its resolution;
//! document info and XMP metadata (book, case, locality, capture time,
//! software), aiming at PDF/A-2b: XMP `pdfaid:part=2`, `conformance=B`, an
//! sRGB OutputIntent with a generated ICC profile, a file ID, no
//! compression of the metadata stream, no interpolation, no transparency.
//!
//! The output is a pure function of its inputs (dates come from the capture
//! time, the file ID from a hash), so finishing a book twice gives the same
//! bytes. Returns bytes; never writes files.

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike};
use image::DynamicImage;
use pdf_writer::types::OutputIntentSubtype;
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};
use sha2::{Digest, Sha256};

use super::encode::{self, OutputConfig, PageKind, PdfPages};
use super::layers::{JpegLayer, Layered};
use super::{budget, decode, g4tiff, icc, jpeg, layers, probe_format, Format};

/// Largest page side PDF readers (and PDF/A) accept, in points.
const MAX_PAGE_PT: f32 = 14_400.0;

/// What the document says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct DocMeta {
    pub book_id: String,
    pub case_no: u32,
    pub locality: String,
    /// When the case was captured (its first page).
    pub captured: DateTime<FixedOffset>,
    /// Producing software and version.
    pub software: String,
}

/// Compressed pixels of one page, as they will sit in the PDF.
#[derive(Debug, Clone, PartialEq)]
pub enum PageData {
    /// A baseline or progressive JPEG with 1 or 3 components.
    Jpeg { bytes: Vec<u8>, components: u8 },
    /// CCITT G4 data.
    G4 { data: Vec<u8>, black_is_1: bool },
    /// Mask, background and ink colour (the page's size is its own).
    Layered(Layered),
}

/// One page ready for a PDF.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfPage {
    pub width: u32,
    pub height: u32,
    pub dpi: f32,
    pub data: PageData,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("a case PDF needs at least one page")]
    NoPages,
    #[error("page {page}: {detail}")]
    BadPage { page: usize, detail: String },
    #[error("page image: {0}")]
    Decode(#[from] decode::DecodeError),
    #[error(transparent)]
    Encode(#[from] encode::EncodeError),
}

impl PdfPage {
    /// Pages of an image file: JPEG and single-strip G4 TIFF are taken as
    /// they are; anything else (PNG, other TIFF, CMYK JPEG) is decoded and
    /// encoded with `fallback` first. `dpi` overrides the file's resolution.
    pub fn from_file(
        bytes: &[u8],
        dpi: Option<f32>,
        fallback: &OutputConfig,
    ) -> Result<Vec<PdfPage>, PdfError> {
        let dpi = dpi.filter(|d| d.is_finite() && *d >= 10.0);
        let default = fallback.default_dpi as f32;
        match probe_format(bytes) {
            Some(Format::Jpeg) => {
                if let Some(i) =
                    jpeg::info(bytes).filter(|i| i.pdf_compatible && matches!(i.components, 1 | 3))
                {
                    let page = PdfPage {
                        width: i.width,
                        height: i.height,
                        dpi: dpi.or(i.dpi).unwrap_or(default),
                        data: PageData::Jpeg {
                            bytes: bytes.to_vec(),
                            components: i.components,
                        },
                    };
                    let pixels = || Ok(Cow::Owned(decode::decode_frame(bytes, 0)?.image));
                    return Ok(vec![page.or_layered(pixels, fallback)?]);
                }
            }
            Some(Format::Tiff) => {
                if let Some(pages) = g4tiff::read_g4_pages(bytes) {
                    return Ok(pages
                        .into_iter()
                        .map(|p| PdfPage {
                            width: p.width,
                            height: p.height,
                            dpi: dpi
                                .or(Some(p.dpi).filter(|d| *d >= 10.0))
                                .unwrap_or(default),
                            data: PageData::G4 {
                                data: p.data,
                                black_is_1: p.black_is_1,
                            },
                        })
                        .collect());
                }
            }
            _ => {}
        }
        let frames = decode::decode(bytes)?;
        frames
            .into_iter()
            .map(|f| {
                let d = dpi.or(f.dpi).unwrap_or(default);
                PdfPage::from_image(&f.image, d, fallback)
            })
            .collect()
    }

    /// Encodes pixels for a PDF per the output profile.
    pub fn from_image(
        image: &DynamicImage,
        dpi: f32,
        cfg: &OutputConfig,
    ) -> Result<PdfPage, PdfError> {
        let prepared = encode::prepare(image, dpi, cfg)?;
        let (width, height) = (prepared.image.width(), prepared.image.height());
        let data = match prepared.kind {
            PageKind::Bilevel => {
                let g4 = g4tiff::encode_g4(&prepared.image.to_luma8(), prepared.dpi)?;
                PageData::G4 {
                    data: g4.data,
                    black_is_1: false,
                }
            }
            _ if cfg.pdf_pages == PdfPages::Layered => {
                return PdfPage::layered(&prepared.image, prepared.dpi, cfg);
            }
            kind => {
                let e = encode::compress(&prepared, cfg)?;
                let page = PdfPage {
                    width,
                    height,
                    dpi: prepared.dpi,
                    data: PageData::Jpeg {
                        bytes: e.bytes,
                        components: if kind == PageKind::Colour { 3 } else { 1 },
                    },
                };
                return page.or_layered(|| Ok(Cow::Borrowed(&prepared.image)), cfg);
            }
        };
        Ok(PdfPage {
            width,
            height,
            dpi: prepared.dpi,
            data,
        })
    }

    /// This JPEG page, or the same pixels layered, per `cfg.pdf_pages`:
    /// `auto` layers a page only when its JPEG is over the page budget
    /// (`output.page_kb` per A4) and the layers are smaller, so a page
    /// that fits is embedded without re-encoding.
    fn or_layered<'a>(
        self,
        pixels: impl FnOnce() -> Result<Cow<'a, DynamicImage>, PdfError>,
        cfg: &OutputConfig,
    ) -> Result<PdfPage, PdfError> {
        let PageData::Jpeg { bytes, .. } = &self.data else {
            return Ok(self);
        };
        let jpeg_len = bytes.len();
        let over_budget = || {
            budget::page_budget(cfg.page_kb, self.width, self.height, self.dpi)
                .is_some_and(|b| jpeg_len > b)
        };
        match cfg.pdf_pages {
            PdfPages::Embed => Ok(self),
            PdfPages::Layered => PdfPage::layered(&*pixels()?, self.dpi, cfg),
            PdfPages::Auto if !over_budget() => Ok(self),
            PdfPages::Auto => {
                let layered = PdfPage::layered(&*pixels()?, self.dpi, cfg)?;
                let smaller = matches!(&layered.data, PageData::Layered(l) if l.len() < jpeg_len);
                Ok(if smaller { layered } else { self })
            }
        }
    }

    /// A layered page of the pixels as they are (no resampling or
    /// flattening: those happened before the page was stored).
    pub fn layered(
        image: &DynamicImage,
        dpi: f32,
        cfg: &OutputConfig,
    ) -> Result<PdfPage, PdfError> {
        if image.width() > g4tiff::MAX_WIDTH || image.height() > jpeg::MAX_SIDE {
            return Err(PdfError::Encode(encode::EncodeError::new(format!(
                "a {}x{} page is too large for a layered PDF page",
                image.width(),
                image.height()
            ))));
        }
        let l = layers::build(image, dpi, &cfg.layer_params())?;
        Ok(PdfPage {
            width: image.width(),
            height: image.height(),
            dpi,
            data: PageData::Layered(l),
        })
    }

    /// Page size in points.
    pub fn size_pt(&self) -> (f32, f32) {
        (
            self.width as f32 * 72.0 / self.dpi,
            self.height as f32 * 72.0 / self.dpi,
        )
    }
}

fn pdf_date(t: &DateTime<FixedOffset>) -> Date {
    let off = t.offset().local_minus_utc();
    let year = t.year().clamp(0, 9999) as u16;
    Date::new(year)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second().min(59) as u8)
        .utc_offset_hour((off / 3600) as i8)
        .utc_offset_minute(((off.abs() % 3600) / 60) as u8)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Title, keywords and identifier shared by the info dictionary and XMP.
struct Texts {
    title: String,
    keywords: String,
    identifier: String,
    date: String,
}

fn texts(meta: &DocMeta) -> Texts {
    Texts {
        title: format!("{} - trường hợp {:03}", meta.book_id, meta.case_no),
        keywords: format!(
            "book:{}; case:{}; locality:{}",
            meta.book_id, meta.case_no, meta.locality
        ),
        identifier: format!("{}.{:03}", meta.book_id, meta.case_no),
        date: meta.captured.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

fn xmp(meta: &DocMeta, t: &Texts) -> String {
    let e = xml_escape;
    format!(
        r#"<?xpacket begin="{bom}" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <dc:identifier>{id}</dc:identifier>
   <dc:coverage>{locality}</dc:coverage>
   <dc:subject><rdf:Bag><rdf:li>book:{book}</rdf:li><rdf:li>case:{case}</rdf:li><rdf:li>locality:{locality}</rdf:li></rdf:Bag></dc:subject>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
   <xmp:MetadataDate>{date}</xmp:MetadataDate>
   <xmp:CreatorTool>{software}</xmp:CreatorTool>
   <pdf:Producer>{software}</pdf:Producer>
   <pdf:Keywords>{keywords}</pdf:Keywords>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#,
        bom = '\u{feff}',
        title = e(&t.title),
        id = e(&t.identifier),
        locality = e(&meta.locality),
        book = e(&meta.book_id),
        case = meta.case_no,
        date = t.date,
        software = e(&meta.software),
        keywords = e(&t.keywords),
    )
}

/// Writes a JPEG image XObject (DCTDecode, 8 bits, grey or RGB).
fn jpeg_image<'a>(
    pdf: &'a mut Pdf,
    id: Ref,
    bytes: &'a [u8],
    width: u32,
    height: u32,
    components: u8,
) -> pdf_writer::writers::ImageXObject<'a> {
    let mut img = pdf.image_xobject(id, bytes);
    img.filter(Filter::DctDecode);
    img.width(width as i32)
        .height(height as i32)
        .bits_per_component(8);
    img.color_space_name(if components == 3 {
        Name(b"DeviceRGB")
    } else {
        Name(b"DeviceGray")
    });
    img
}

/// Builds the PDF of one case.
pub fn case_pdf(meta: &DocMeta, pages: &[PdfPage]) -> Result<Vec<u8>, PdfError> {
    if pages.is_empty() {
        return Err(PdfError::NoPages);
    }
    for (i, p) in pages.iter().enumerate() {
        let bad = |detail: String| PdfError::BadPage {
            page: i + 1,
            detail,
        };
        if p.width == 0 || p.height == 0 || p.width > i32::MAX as u32 || p.height > i32::MAX as u32
        {
            return Err(bad(format!("{}x{} pixels", p.width, p.height)));
        }
        if !(p.dpi.is_finite() && p.dpi >= 10.0) {
            return Err(bad(format!("resolution {} dpi", p.dpi)));
        }
        let (w, h) = p.size_pt();
        if w > MAX_PAGE_PT || h > MAX_PAGE_PT {
            return Err(bad(format!(
                "{:.0}x{:.0} points is larger than a PDF page may be",
                w, h
            )));
        }
        match &p.data {
            PageData::Jpeg { components, .. } if !matches!(components, 1 | 3) => {
                return Err(bad(format!("JPEG with {components} components")));
            }
            PageData::Layered(l) => {
                for j in [&l.background, &l.foreground] {
                    if !matches!(j.components, 1 | 3)
                        || j.width == 0
                        || j.height == 0
                        || j.width > i32::MAX as u32
                        || j.height > i32::MAX as u32
                    {
                        return Err(bad(format!(
                            "layer of {}x{} pixels with {} components",
                            j.width, j.height, j.components
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    let t = texts(meta);
    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog_id = alloc();
    let tree_id = alloc();
    let info_id = alloc();
    let meta_id = alloc();
    let icc_id = alloc();
    // Per page: the page, its content stream and its images (three for a
    // layered page: background, foreground, mask).
    let page_ids: Vec<(Ref, Ref, Vec<Ref>)> = pages
        .iter()
        .map(|p| {
            let images = match p.data {
                PageData::Layered(_) => 3,
                _ => 1,
            };
            (alloc(), alloc(), (0..images).map(|_| alloc()).collect())
        })
        .collect();

    let mut hasher = Sha256::new();
    hasher.update(t.identifier.as_bytes());
    hasher.update(t.date.as_bytes());
    hasher.update(meta.locality.as_bytes());
    for p in pages {
        match &p.data {
            PageData::Jpeg { bytes, .. } => hasher.update(bytes),
            PageData::G4 { data, .. } => hasher.update(data),
            PageData::Layered(l) => {
                hasher.update(&l.background.bytes);
                hasher.update(&l.foreground.bytes);
                hasher.update(&l.mask_g4);
            }
        }
    }
    let id = hasher.finalize()[..16].to_vec();
    pdf.set_file_id((id.clone(), id));

    {
        let mut cat = pdf.catalog(catalog_id);
        cat.pages(tree_id).metadata(meta_id);
        cat.output_intents()
            .push()
            .subtype(OutputIntentSubtype::PDFA)
            .output_condition_identifier(TextStr("sRGB IEC61966-2.1"))
            .info(TextStr("sRGB IEC61966-2.1"))
            .dest_output_profile(icc_id);
    }
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|p| p.0))
        .count(pages.len() as i32);

    let date = pdf_date(&meta.captured);
    {
        let mut info = pdf.document_info(info_id);
        info.title(TextStr(&t.title))
            .keywords(TextStr(&t.keywords))
            .creator(TextStr(&meta.software))
            .producer(TextStr(&meta.software))
            .creation_date(date)
            .modified_date(date);
        info.pair(Name(b"BookID"), TextStr(&meta.book_id));
        info.pair(Name(b"Case"), meta.case_no as i32);
        info.pair(Name(b"Locality"), TextStr(&meta.locality));
        info.pair(Name(b"CaptureTime"), TextStr(&t.date));
    }
    let xmp = xmp(meta, &t);
    pdf.metadata(meta_id, xmp.as_bytes());
    let profile = icc::srgb_profile();
    pdf.icc_profile(icc_id, &profile).n(3);

    for (page, (page_id, content_id, image_ids)) in pages.iter().zip(&page_ids) {
        let (w, h) = page.size_pt();
        let names = [Name(b"Im0"), Name(b"Im1")];
        let painted = image_ids.len().min(2);
        let mut p = pdf.page(*page_id);
        p.parent(tree_id)
            .media_box(Rect::new(0.0, 0.0, w, h))
            .contents(*content_id);
        {
            let mut res = p.resources();
            let mut xo = res.x_objects();
            for (name, id) in names.iter().zip(image_ids).take(painted) {
                xo.pair(*name, *id);
            }
        }
        p.finish();

        // Every image fills the page; a layered page paints the background
        // first, then the ink colour through the mask.
        let mut content = Content::new();
        for name in names.iter().take(painted) {
            content.save_state();
            content.transform([w, 0.0, 0.0, h, 0.0, 0.0]);
            content.x_object(*name);
            content.restore_state();
        }
        pdf.stream(*content_id, &content.finish());

        match &page.data {
            PageData::Jpeg { bytes, components } => {
                jpeg_image(
                    &mut pdf,
                    image_ids[0],
                    bytes,
                    page.width,
                    page.height,
                    *components,
                );
            }
            PageData::G4 { data, black_is_1 } => {
                let mut img = pdf.image_xobject(image_ids[0], data);
                img.filter(Filter::CcittFaxDecode);
                img.decode_parms()
                    .k(-1)
                    .columns(page.width as i32)
                    .rows(page.height as i32)
                    .black_is_1(*black_is_1);
                img.width(page.width as i32)
                    .height(page.height as i32)
                    .bits_per_component(1)
                    .color_space_name(Name(b"DeviceGray"));
            }
            PageData::Layered(l) => {
                let (bg, fg, mask) = (image_ids[0], image_ids[1], image_ids[2]);
                let j: &JpegLayer = &l.background;
                jpeg_image(&mut pdf, bg, &j.bytes, j.width, j.height, j.components);
                let j: &JpegLayer = &l.foreground;
                let mut img = jpeg_image(&mut pdf, fg, &j.bytes, j.width, j.height, j.components);
                img.stencil_mask(mask);
                img.finish();
                // An image mask paints where its samples are 0 (Decode
                // [0 1]); ink is coded black with BlackIs1 false, so 0.
                let mut m = pdf.image_xobject(mask, &l.mask_g4);
                m.filter(Filter::CcittFaxDecode);
                m.decode_parms()
                    .k(-1)
                    .columns(l.mask_width as i32)
                    .rows(l.mask_height as i32)
                    .black_is_1(false);
                m.width(l.mask_width as i32)
                    .height(l.mask_height as i32)
                    .image_mask(true)
                    .bits_per_component(1);
            }
        }
    }
    Ok(pdf.finish())
}
