//! The TOML configuration: its model, the built-in default for every key,
//! and validation that names the key path of every problem
//! (`paths.archive: /x is not writable`).
//!
//! Unknown keys are errors. Loading never creates folders or touches the
//! journal; `Config::prepare_dirs` does that, and only when asked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::book::{BooksConfig, Naming, NamingConfig, Registers};
use crate::codec::OutputConfig;
use crate::imaging::ImagingConfig;

/// The whole configuration. Every section and key has a built-in default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub station: StationConfig,
    pub paths: PathsConfig,
    pub registers: Registers,
    pub books: BooksConfig,
    pub naming: NamingConfig,
    pub imaging: ImagingConfig,
    pub output: OutputConfig,
    pub server: ServerConfig,
    pub workers: WorkersConfig,
    pub watch: crate::capture::watch::WatchConfig,
    pub scanner: crate::capture::scanner::ScannerConfig,
}

/// `[station]`: this workstation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StationConfig {
    /// Name shown in reports and on the operator page.
    pub name: String,
    /// Locality (commune, ward) whose books this station captures.
    pub locality: String,
}

impl Default for StationConfig {
    fn default() -> Self {
        Self {
            name: "may-1".into(),
            locality: "Chưa đặt".into(),
        }
    }
}

/// `[paths]`: where everything lives. Empty means "under `data`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    pub data: PathBuf,
    pub watch: PathBuf,
    pub archive: PathBuf,
    pub state: PathBuf,
    pub quarantine: PathBuf,
    pub done: PathBuf,
    pub inbox: PathBuf,
}

impl Default for PathsConfig {
    fn default() -> Self {
        Self {
            data: PathBuf::from("sohoa-data"),
            watch: PathBuf::new(),
            archive: PathBuf::new(),
            state: PathBuf::new(),
            quarantine: PathBuf::new(),
            done: PathBuf::new(),
            inbox: PathBuf::new(),
        }
    }
}

/// `[server]`: the local HTTP API and operator page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on; loopback unless a token is set.
    pub listen: String,
    /// Access token required when listening beyond loopback.
    pub token: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8734".into(),
            token: String::new(),
        }
    }
}

/// `[workers]`: the page-processing pool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Pipeline threads; 0 means one per core.
    pub threads: usize,
}

impl WorkersConfig {
    pub fn threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            self.threads
        }
    }
}

/// The folders the configuration resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub watch: PathBuf,
    pub archive: PathBuf,
    pub state: PathBuf,
    pub quarantine: PathBuf,
    /// Watch-folder files whose pages are spooled.
    pub done: PathBuf,
    /// Watch-folder files waiting for a book to be chosen.
    pub inbox: PathBuf,
}

impl Dirs {
    pub fn spool(&self) -> PathBuf {
        self.state.join("spool")
    }

    pub fn journal(&self) -> PathBuf {
        self.state.join("journal.sqlite")
    }
}

/// A config that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(problem: String) -> Self {
        ConfigError {
            problems: vec![problem],
        }
    }
}

impl Config {
    /// Loads `path`, or the built-in defaults when no file is given.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(format!(
                "{}: cannot read the config file: {e}",
                path.display()
            ))
        })?;
        Config::parse(&text).map_err(|mut e| {
            for p in &mut e.problems {
                *p = format!("{}: {p}", path.display());
            }
            e
        })
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let de = toml::de::Deserializer::parse(text)
            .map_err(|e| ConfigError::one(one_line(&e.to_string())))?;
        let cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = one_line(&e.into_inner().to_string());
            ConfigError::one(if path == "." {
                inner
            } else {
                format!("{path}: {inner}")
            })
        })?;
        let problems = cfg.problems();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Every value problem, as `key.path: what is wrong`.
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.station.name.trim().is_empty() {
            p.push("station.name: must not be empty".into());
        }
        if let Err(e) = crate::book::check_name_part("locality", self.station.locality.trim()) {
            p.push(format!("station.locality: {e}"));
        }
        if self.paths.data.as_os_str().is_empty() {
            p.push("paths.data: must not be empty".into());
        }
        self.registers.validate(&mut p);
        self.books.validate(&mut p);
        if let Err(errs) = Naming::new(&self.naming, &self.registers, &self.books) {
            p.extend(errs);
        }
        self.imaging.validate(&mut p);
        self.output.validate(&mut p);
        self.watch.validate(&mut p);
        self.scanner.validate(&mut p);
        match self.server.listen.parse::<std::net::SocketAddr>() {
            Err(_) => p.push(format!(
                "server.listen: \"{}\" is not an address and port such as 127.0.0.1:8734",
                self.server.listen
            )),
            Ok(addr) if !addr.ip().is_loopback() && self.server.token.trim().len() < 16 => p.push(format!(
                "server.listen: {addr} is reachable from other machines, so server.token must be set (16 characters or more)"
            )),
            Ok(_) => {}
        }
        if self.workers.threads > 256 {
            p.push(format!(
                "workers.threads: {} is too many (0 means one per core)",
                self.workers.threads
            ));
        }
        p
    }

    /// Book and page names from the validated templates.
    pub fn naming(&self) -> Naming {
        // Validated at load; the defaults are valid too.
        Naming::new(&self.naming, &self.registers, &self.books)
            .or_else(|_| {
                Naming::new(
                    &NamingConfig::default(),
                    &Registers::default(),
                    &BooksConfig::default(),
                )
            })
            .unwrap_or_else(|e| unreachable!("built-in naming defaults are invalid: {e:?}"))
    }

    /// The folders, with empty entries placed under `paths.data`.
    pub fn dirs(&self) -> Dirs {
        let pick = |p: &PathBuf, name: &str| {
            if p.as_os_str().is_empty() {
                self.paths.data.join(name)
            } else {
                p.clone()
            }
        };
        Dirs {
            watch: pick(&self.paths.watch, "watch"),
            archive: pick(&self.paths.archive, "archive"),
            state: pick(&self.paths.state, "state"),
            quarantine: pick(&self.paths.quarantine, "quarantine"),
            done: pick(&self.paths.done, "done"),
            inbox: pick(&self.paths.inbox, "inbox"),
        }
    }

    /// Creates the folders and checks each is writable; errors name the key.
    pub fn prepare_dirs(&self) -> Result<Dirs, ConfigError> {
        let dirs = self.dirs();
        let mut problems = Vec::new();
        for (key, dir) in [
            ("paths.watch", &dirs.watch),
            ("paths.archive", &dirs.archive),
            ("paths.state", &dirs.state),
            ("paths.quarantine", &dirs.quarantine),
            ("paths.done", &dirs.done),
            ("paths.inbox", &dirs.inbox),
        ] {
            if let Err(e) = ensure_writable(dir) {
                problems.push(format!("{key}: {} {e}", dir.display()));
            }
        }
        if problems.is_empty() {
            Ok(dirs)
        } else {
            Err(ConfigError { problems })
        }
    }
}

/// Creates `dir` if needed and proves it writable by creating a file in it.
fn ensure_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot be created: {e}"))?;
    if !dir.is_dir() {
        return Err("is not a folder".into());
    }
    let probe = dir.join(format!(".sohoa-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("is not writable: {e}"))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// toml's messages span several lines with a source excerpt; keep them
/// readable in one log line.
fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(toml: &str) -> String {
        Config::parse(toml).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid_and_complete() {
        let cfg = Config::parse("").unwrap();
        assert_eq!(cfg, Config::default());
        let dirs = cfg.dirs();
        assert_eq!(dirs.archive, PathBuf::from("sohoa-data/archive"));
        assert_eq!(dirs.watch, PathBuf::from("sohoa-data/watch"));
        assert_eq!(dirs.state, PathBuf::from("sohoa-data/state"));
        // The defaults serialise to a file that parses back to themselves.
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(Config::parse(&text).unwrap(), cfg);
    }

    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../config/sohoa.toml");
        let cfg = Config::parse(text).unwrap();
        assert_eq!(
            cfg,
            Config::default(),
            "config/sohoa.toml drifted from the built-in defaults"
        );
    }

    #[test]
    fn unknown_keys_name_their_path() {
        assert!(
            problems("[naming]\npgae = \"x\"").contains("naming.pgae"),
            "{}",
            problems("[naming]\npgae = \"x\"")
        );
        assert!(problems("colour = 1").contains("colour"));
        assert!(problems("[nope]\n").contains("nope"));
    }

    #[test]
    fn wrong_types_name_their_path() {
        let p = problems("[output]\njpeg_quality = \"high\"");
        assert!(p.contains("output.jpeg_quality"), "{p}");
        let p = problems("[imaging]\nblank = \"burn\"");
        assert!(p.contains("imaging.blank"), "{p}");
    }

    #[test]
    fn bad_values_name_their_key_and_reason() {
        let cases = [
            (
                "[output]\njpeg_quality = 0",
                "output.jpeg_quality: 0 is out of range",
            ),
            (
                "[server]\nlisten = \"nowhere\"",
                "server.listen: \"nowhere\" is not an address",
            ),
            (
                "[server]\nlisten = \"0.0.0.0:8734\"",
                "server.token must be set",
            ),
            ("[station]\nlocality = \"../x\"", "station.locality:"),
            (
                "[naming]\npage = \"{type}.p{page}\"",
                "naming.page: \"{type}.p{page}\" must use {ext}",
            ),
            (
                "[naming]\nbook = \"{type}.{nam}\"",
                "naming.book: unknown field {nam}",
            ),
            (
                "[books]\nyear_min = 99",
                "books.year_min: 99 is not a four-digit year",
            ),
            ("[registers]\n\"K/S\" = \"x\"", "registers.K/S:"),
            ("[workers]\nthreads = 1000", "workers.threads:"),
        ];
        for (toml, want) in cases {
            let p = problems(toml);
            assert!(
                p.contains(want),
                "for {toml:?} expected {want:?}, got {p:?}"
            );
        }
    }

    #[test]
    fn unwritable_paths_name_their_key() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        let mut cfg = Config::default();
        cfg.paths.data = tmp.path().join("data");
        cfg.paths.archive = file.join("sub");
        let err = cfg.prepare_dirs().unwrap_err().to_string();
        assert!(
            err.contains("paths.archive:") && err.contains("cannot be created"),
            "{err}"
        );
        assert!(!err.contains("paths.watch"), "{err}");
    }
}
