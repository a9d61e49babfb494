//! Keeps secret values out of everything skein prints. Values are never formatted into
//! output on purpose; this is the net under that rule: every line written to stdout or
//! stderr (logs included) has each known secret replaced by `***`.

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

/// Registers the password of a URL, as written and percent-decoded.
pub fn register_url_password(url: &str) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return;
    };
    let Some((_, password)) = userinfo.split_once(':') else {
        return;
    };
    let decoded = percent_encoding::percent_decode_str(password)
        .decode_utf8_lossy()
        .into_owned();
    register([password.to_owned(), decoded]);
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

/// Prints a line on stdout, scrubbed.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", scrub(text));
}

/// Prints text on stdout without a newline, scrubbed.
pub fn out_raw(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{}", scrub(text));
}

/// Prints a line on stderr, scrubbed.
pub fn err(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", scrub(text));
}

/// A stderr writer for logs that scrubs each write.
pub struct ScrubbedStderr;

impl Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_are_scrubbed() {
        register(["hunter22".to_owned(), "abc".to_owned()]);
        register_url_password("postgres://u:p%40ss%20word@h/db");
        assert_eq!(scrub("pw=hunter22;"), "pw=***;");
        assert_eq!(scrub("abc stays"), "abc stays", "too short to scrub");
        assert_eq!(scrub("p@ss word and p%40ss%20word"), "*** and ***");
    }
}
