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
        // Checked whole first, then read by dotenvy, which sets what is not set yet.
        let checked = check(&file).and_then(|()| {
            dotenvy::from_path(&file).map_err(|_| "it changed while it was read".to_owned())
        });
        if let Err(problem) = checked {
            // A broken .env is worth a word; the command goes on without any of it.
            crate::redact::err(&format!(
                "warning: {}: {problem}; none of it was used (fix it, or pass --no-dotenv)",
                file.display()
            ));
        }
    }
}

/// Whether a `.env` file can be used whole: a line that does not parse, or a NUL byte (no
/// variable can hold one), refuses the whole file, naming the line but never showing it
/// (it may hold a secret).
fn check(file: &Path) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read it: {e}"))?;
    if let Some(line) = bytes.split(|&b| b == b'\n').position(|l| l.contains(&0)) {
        return Err(format!("line {} holds a NUL byte", line + 1));
    }
    let text = String::from_utf8_lossy(&bytes);
    dotenvy::from_read_iter(bytes.as_slice())
        .map(|item| {
            item.map_err(|err| match err {
                dotenvy::Error::LineParse(line, at) => {
                    let number = text
                        .find(line.as_str())
                        .map_or(0, |offset| text[..offset].matches('\n').count() + 1);
                    format!("line {number} does not parse (at character {})", at + 1)
                }
                other => other.to_string(),
            })
        })
        .try_for_each(|item| item.map(drop))
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

#[cfg(test)]
mod check_tests {
    use super::*;

    #[test]
    fn a_file_is_usable_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        for (text, expected) in [
            ("A=1\nB='two'\n# note\n", Ok(())),
            ("A=1\nPASSWORD s3cret\n", Err("line 2 does not parse")),
            ("A=1\nB=\"unclosed\n", Err("line 2 does not parse")),
            ("A=1\nB=a\0b\n", Err("line 2 holds a NUL byte")),
        ] {
            std::fs::write(&file, text).unwrap();
            let got = check(&file);
            match expected {
                Ok(()) => assert_eq!(got, Ok(()), "{text:?}"),
                Err(start) => assert!(
                    got.as_ref()
                        .is_err_and(|e| e.starts_with(start) && !e.contains("s3cret")),
                    "{text:?}: {got:?}"
                ),
            }
        }
    }
}
