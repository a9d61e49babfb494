//! Keeps secret values out of everything skein prints. Values are never formatted into
//! output on purpose; this is the net under that rule: every line written to stdout or
//! stderr (logs included) has each known secret replaced by `***`. Lines of results and
//! messages (not SQL scripts, not logs, which escape their own fields) are also a net under
//! the escaping of outside text: no control character but the line break gets through.

use crate::escape::controls_in_lines;
use std::borrow::Cow;
use std::io::Write;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds values to scrub (too short ones are skipped: `***` everywhere would hide output).
pub fn register<I: IntoIterator<Item = String>>(values: I) {
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for value in values {
        if value.len() >= 4 && !secrets.contains(&value) {
            secrets.push(value);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Registers the secrets of a URL, as written and percent-decoded: the password in its
/// user info and the values of its secret-bearing query parameters (`?password=...`).
pub fn register_url_secrets(url: &str) {
    let password = match url.split_once("://") {
        Some((_, rest)) => {
            let authority = rest.split(['/', '?']).next().unwrap_or(rest);
            authority
                .rsplit_once('@')
                .and_then(|(userinfo, _)| userinfo.split_once(':').map(|(_, password)| password))
        }
        // Written without `//`: the whole user info may be the password.
        None => url.split_once(':').and_then(|(_, rest)| {
            let authority = rest.split(['/', '?']).next().unwrap_or(rest);
            authority.rsplit_once('@').map(|(userinfo, _)| userinfo)
        }),
    };
    for secret in password
        .into_iter()
        .chain(skein_core::driver::secret_parameters(url))
    {
        let decoded = percent_encoding::percent_decode_str(secret)
            .decode_utf8_lossy()
            .into_owned();
        register([secret.to_owned(), decoded]);
    }
}

/// `text` with every known secret replaced by `***`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        out = out.replace(secret.as_str(), "***");
    }
    Cow::Owned(out)
}

/// Prints a line on stdout, scrubbed, control characters other than line breaks escaped,
/// and no line ending in blanks (tables pad their last column).
pub fn out(text: &str) {
    let text = controls_in_lines(&scrub(text)).into_owned();
    let trimmed: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", trimmed.join("\n"));
}

/// Prints text on stdout without a newline, scrubbed: a SQL script, as it is (its text
/// must reach psql unchanged).
pub fn out_raw(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{}", scrub(text));
}

/// Prints a line on stderr, scrubbed, control characters other than line breaks escaped.
pub fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", controls_in_lines(&scrub(text)));
}

/// Prints a question on stderr, scrubbed, without a final newline.
pub fn err_inline(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{}", controls_in_lines(&scrub(text)));
}

/// A stderr writer for logs that scrubs each write. A log line nobody reads any more
/// (`skein up -v 2>&1 | head`) is dropped: the run goes on to its end, as it would with no
/// logs at all, rather than stop half-way through.
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let _ = std::io::stderr().write_all(scrub(&text).as_bytes());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_scrubbed() {
        register(["hunter22".to_owned(), "abc".to_owned()]);
        register_url_secrets("postgres://u:p%40ss%20word@h/db");
        register_url_secrets(
            "postgres://u@h/db?sslmode=disable&password=qu%3Dery&sslpassword=key-pass",
        );
        assert_eq!(scrub("pw=hunter22;"), "pw=***;");
        assert_eq!(scrub("abc stays"), "abc stays", "too short to scrub");
        assert_eq!(scrub("p@ss word and p%40ss%20word"), "*** and ***");
        assert_eq!(
            scrub("qu=ery, qu%3Dery, key-pass, disable"),
            "***, ***, ***, disable"
        );
    }

    #[test]
    fn the_engine_and_the_config_know_the_same_secret_parameters() {
        assert_eq!(
            skein_core::driver::SECRET_PARAMETER_WORDS,
            skein_config::connection::SECRET_PARAMETER_WORDS
        );
    }
}
