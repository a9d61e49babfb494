//! `.env`: variables for the run from the current folder's `.env` and the one beside
//! skein.toml, as sqlx-cli and dbmate read them. A variable already set is never
//! overridden; `--no-dotenv` (or SKEIN_NO_DOTENV=1) reads neither.

use std::path::{Path, PathBuf};

/// Reads the `.env` files, before the command line is parsed (it may set SKEIN_PROFILE,
/// SKEIN_CONFIG or DATABASE_URL). Runs before any thread starts.
pub fn load() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.iter().any(|a| a == "--no-dotenv")
        || std::env::var_os("SKEIN_NO_DOTENV").is_some_and(|v| !v.is_empty() && v != "0")
    {
        return;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    for file in files(&cwd, config_arg(&args).as_deref()) {
        if let Err(err) = dotenvy::from_path(&file) {
            // A broken .env is worth a word; the command goes on without it.
            crate::redact::err(&format!("warning: {} was not read: {err}", file.display()));
        }
    }
}

/// The `.env` files to read, nearest first: the current folder's, then the one beside
/// the config file (`--config`, SKEIN_CONFIG, or the nearest skein.toml).
fn files(cwd: &Path, config: Option<&Path>) -> Vec<PathBuf> {
    let config = config
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SKEIN_CONFIG").map(PathBuf::from))
        .or_else(|| skein_config::load::find(cwd));
    let beside = config
        .and_then(|c| std::path::absolute(cwd.join(c)).ok())
        .and_then(|c| c.parent().map(|dir| dir.join(".env")));
    let mut files = vec![cwd.join(".env")];
    files.extend(beside.filter(|b| *b != files[0]));
    files.retain(|f| f.is_file());
    files
}

/// `--config PATH` or `--config=PATH`, read before clap parses.
fn config_arg(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_flag_is_read_in_both_forms() {
        let args = |list: &[&str]| list.iter().map(Into::into).collect::<Vec<_>>();
        assert_eq!(
            config_arg(&args(&["skein", "--config", "a/skein.toml", "up"])),
            Some(PathBuf::from("a/skein.toml"))
        );
        assert_eq!(
            config_arg(&args(&["skein", "up", "--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
        assert_eq!(config_arg(&args(&["skein", "up"])), None);
    }
}
