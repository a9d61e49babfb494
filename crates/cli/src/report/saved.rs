//! `skein report FILE`: a saved JSON report as the page or the summary, made as a run's own
//! are.

/// `skein report FILE`: the page (or with `--format markdown` the summary) of a saved JSON
/// report; a file that is not one is a usage error (exit 2).
pub fn render(path: &std::path::Path, markdown: bool) -> std::process::ExitCode {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let text = if shown == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let page = text
        .map_err(|e| format!("cannot read {}: {e}", crate::escape::controls(&shown)))
        .and_then(|text| {
            super::html::read_report(&crate::escape::controls(&shown), &text)
                .map_err(|e| e.to_string())
        });
    match page {
        Ok(doc) if markdown => {
            crate::redact::out(super::markdown::render(&doc).trim_end());
            std::process::ExitCode::SUCCESS
        }
        Ok(doc) => {
            crate::redact::out_raw(&super::html::page(&doc));
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            crate::redact::err(&format!("error: {message}"));
            std::process::ExitCode::from(crate::exit::USAGE)
        }
    }
}
