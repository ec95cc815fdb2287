//! The `sohoa inspect` and `sohoa process` contract.

mod imaging_common;
use imaging_common::*;

use std::process::Command;

use image::DynamicImage;
use sohoa::imaging::rotate;

fn sohoa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sohoa"))
}

#[test]
fn inspect_and_process_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = load("lucasta.1.300.tif");
    let turned = rotate::rotate(page.clone(), 3.0, [255; 3]);
    let png = dir.path().join("turned.png");
    turned.save(&png).unwrap();
    // A two-page TIFF.
    let tif = dir.path().join("two.tif");
    {
        let g = page.to_luma8();
        let file = std::fs::File::create(&tif).unwrap();
        let mut enc = tiff::encoder::TiffEncoder::new(file).unwrap();
        for _ in 0..2 {
            enc.write_image::<tiff::encoder::colortype::Gray8>(g.width(), g.height(), g.as_raw())
                .unwrap();
        }
    }
    let missing = dir.path().join("missing.png");

    let out = sohoa()
        .args(["inspect", "--json"])
        .arg(&png)
        .arg(&missing)
        .arg(&tif)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an unreadable input must fail the run"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let first = &lines[0];
    for key in [
        "input",
        "output",
        "skew_deg",
        "confidence",
        "rotated",
        "orientation",
        "crop",
        "blank",
        "width",
        "height",
        "dpi",
        "bytes",
        "ms",
    ] {
        assert!(first.get(key).is_some(), "missing {key}: {first}");
    }
    let skew = first["skew_deg"].as_f64().unwrap();
    assert!((skew + 3.0).abs() < 0.4, "turned 3 deg clockwise: {first}");
    assert!(first["output"].is_null());
    assert_eq!(first["crop"].as_array().unwrap().len(), 4);
    assert!(lines[1]["error"].as_str().is_some());
    assert!(lines[1]["input"].as_str().unwrap().contains("missing.png"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.png"));
    assert_eq!(lines[2]["page"], 1);
    assert_eq!(lines[3]["page"], 2);

    let outdir = dir.path().join("out");
    let out = sohoa()
        .args(["process", "--json", "--out"])
        .arg(&outdir)
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let written = std::path::PathBuf::from(line["output"].as_str().unwrap());
    assert_eq!(written.parent().unwrap(), outdir);
    assert!(written
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("turned."));
    let bytes = std::fs::read(&written).unwrap();
    assert_eq!(bytes.len() as u64, line["bytes"].as_u64().unwrap());
    assert_eq!(line["rotated"], true);
    let img: DynamicImage = image::load_from_memory(&bytes).unwrap();
    assert_eq!(img.width() as u64, line["width"].as_u64().unwrap());
    assert_eq!(img.height() as u64, line["height"].as_u64().unwrap());
}
