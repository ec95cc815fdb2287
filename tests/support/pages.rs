//! Small synthetic page images: white sheets with dark "text lines" placed
//! by a seed, so every seed gives different content.

#![allow(dead_code)]

pub fn page_png(seed: u32) -> Vec<u8> {
    let (w, h) = (420u32, 600u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    for line in 0..12 {
        let y = 60 + line * 40 + (seed % 7);
        let len = 120 + ((seed * 37 + line * 53) % 220);
        for x in 40..40 + len {
            for dy in 0..6 {
                img.put_pixel(x, y + dy, image::Luma([20]));
            }
        }
    }
    let mut out = Vec::new();
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}
