//! `sohoa check-config FILE`: validates a config file and explains what it
//! means: the folders, the register table, example names.

use std::path::Path;
use std::process::ExitCode;

use sohoa::config::Config;

pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    let cfg = match Config::load(Some(file)) {
        Ok(cfg) => cfg,
        Err(e) => {
            for p in &e.problems {
                eprintln!("error: {p}");
            }
            eprintln!(
                "{}: {} problem(s); nothing was changed",
                file.display(),
                e.problems.len()
            );
            return Ok(ExitCode::from(2));
        }
    };
    let dirs = cfg.dirs();
    let naming = cfg.naming();
    println!("{}: valid", file.display());
    println!(
        "station      {} ({})",
        cfg.station.name, cfg.station.locality
    );
    println!("watch        {}", dirs.watch.display());
    println!("archive      {}", dirs.archive.display());
    println!("state        {} (journal and spool)", dirs.state.display());
    println!("quarantine   {}", dirs.quarantine.display());
    println!("operator page http://{}/", cfg.server.listen);
    println!("register types:");
    for (code, name) in &cfg.registers.0 {
        println!("  {code:<6} {name}");
    }
    let code = if cfg.registers.0.contains_key("KS") {
        "KS".to_string()
    } else {
        cfg.registers.0.keys().next().cloned().unwrap_or_default()
    };
    match naming.book_id(
        &code,
        cfg.books.year_min.max(2010),
        1,
        &cfg.station.locality,
    ) {
        Ok(example) => {
            println!("example names for book {}:", naming.render_book(&example));
            println!(
                "  folder     {}",
                dirs.archive.join(naming.book_dir(&example)).display()
            );
            println!("  page 1     {}", naming.page_file(&example, 1, "jpg"));
            println!("  case 1     {}", naming.case_file(&example, 1));
        }
        Err(e) => println!("(no example: {e})"),
    }
    println!(
        "output       profile {:?}, JPEG quality {}",
        cfg.output.profile, cfg.output.jpeg_quality
    );
    let mut problems = 0;
    if let Err(e) = check_dirs(&cfg) {
        problems += 1;
        eprintln!("warning: {e}");
    }
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Folders that exist must be writable; missing ones are created at start.
fn check_dirs(cfg: &Config) -> Result<(), String> {
    let dirs = cfg.dirs();
    for (key, dir) in [
        ("paths.watch", &dirs.watch),
        ("paths.archive", &dirs.archive),
        ("paths.state", &dirs.state),
    ] {
        if let Ok(meta) = std::fs::metadata(dir) {
            if !meta.is_dir() {
                return Err(format!("{key}: {} is not a folder", dir.display()));
            }
            if meta.permissions().readonly() {
                return Err(format!("{key}: {} is not writable", dir.display()));
            }
        }
    }
    Ok(())
}
