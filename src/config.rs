//! The TOML configuration: its model, the built-in default for every key,
//! and validation that names the key path of every problem.
//!
//! Unknown keys are errors. Loading never creates folders or touches the
//! journal; `ensure_dirs` does that, and only when asked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::codec::OutputConfig;
use crate::imaging::ImagingConfig;

/// The whole configuration. Every section and key has a built-in default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub imaging: ImagingConfig,
    pub output: OutputConfig,
}

/// A config that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl Config {
    /// Loads `path`, or the built-in defaults when no file is given.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            problems: vec![format!("{}: cannot read: {e}", path.display())],
        })?;
        Config::parse(&text)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError {
            problems: vec![e.to_string()],
        })?;
        let mut problems = Vec::new();
        cfg.imaging.validate(&mut problems);
        cfg.output.validate(&mut problems);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError { problems })
        }
    }
}

#[allow(dead_code)]
fn _unused(_: PathBuf) {}
