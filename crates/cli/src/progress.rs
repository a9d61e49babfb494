//! Progress while databases migrate. On a terminal: one spinner line per database in
//! flight, cleared when it is done. Elsewhere (CI logs, pipes): one plain line per step
//! that ran. Never with `--format json` or `-q`.

use crate::escape::controls;
use crate::redact;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use skein_core::engine::{Event, EventSink};
use skein_core::plan::Direction;
use std::io::IsTerminal as _;
use std::time::Duration;

/// How progress is shown for a whole command.
pub enum Progress {
    Off,
    Lines,
    Bars(MultiProgress),
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        if !enabled {
            Progress::Off
        } else if std::io::stderr().is_terminal() {
            Progress::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Progress::Lines
        }
    }

    /// The printer for one database, from when it starts until it is done.
    pub fn database(&self, name: &str) -> DatabaseProgress {
        let bar = match self {
            Progress::Bars(multi) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix}: {wide_msg}")
                        .expect("a valid template"),
                );
                bar.set_prefix(controls(name).into_owned());
                bar.set_message("connecting");
                bar.enable_steady_tick(Duration::from_millis(120));
                Some(bar)
            }
            _ => None,
        };
        DatabaseProgress {
            database: controls(name).into_owned(),
            lines: matches!(self, Progress::Lines),
            bar,
        }
    }
}

/// Progress of one database; its line disappears when it is dropped.
pub struct DatabaseProgress {
    database: String,
    lines: bool,
    bar: Option<ProgressBar>,
}

impl Drop for DatabaseProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl EventSink for DatabaseProgress {
    fn event(&self, event: Event<'_>) {
        let db = &self.database;
        match event {
            Event::Planned { plan } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{} step(s) to run", plan.steps.len()));
                }
            }
            Event::StepStarted { step } => {
                if let Some(bar) = &self.bar {
                    let verb = match step.direction {
                        Direction::Up => "applying",
                        Direction::Down => "reverting",
                    };
                    bar.set_message(format!(
                        "{verb} {} {}",
                        step.version,
                        controls(&step.description)
                    ));
                }
            }
            Event::StepFinished { step, ms } => {
                if self.lines {
                    let verb = match step.direction {
                        Direction::Up => "applied",
                        Direction::Down => "reverted",
                    };
                    redact::err(&format!(
                        "{db}: {verb} {} {} ({ms} ms)",
                        step.version,
                        controls(&step.description)
                    ));
                }
            }
            Event::StepAlreadyDone { step } => {
                if self.lines {
                    redact::err(&format!(
                        "{db}: {} {} was done by another process",
                        step.version,
                        controls(&step.description)
                    ));
                }
            }
        }
    }
}
