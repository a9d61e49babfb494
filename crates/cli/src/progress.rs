//! Progress while databases are worked on. On a terminal: one line for the fleet when
//! more than one database is in the run (done/total, failures, ETA and the databases in
//! flight), or a spinner line for a single database; cleared when done. Elsewhere (CI
//! logs, pipes): one plain line per step that ran, so a fleet with nothing to do prints
//! nothing. Never with `--format json` or `-q`.

use crate::escape::controls;
use crate::redact;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use skein_core::engine::{Event, EventSink};
use skein_core::plan::Direction;
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How progress is shown for a whole command.
pub enum Progress {
    Off,
    Lines,
    Bars(Terminal),
}

/// Progress drawn on a terminal.
#[derive(Clone)]
pub struct Terminal {
    multi: MultiProgress,
    /// The fleet's line, while a run of more than one database is under way.
    fleet: Arc<Mutex<Option<FleetLine>>>,
}

impl Terminal {
    fn fleet_line(&self) -> MutexGuard<'_, Option<FleetLine>> {
        self.fleet.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Progress {
    pub fn new(enabled: bool) -> Self {
        if !enabled {
            Progress::Off
        } else if std::io::stderr().is_terminal() {
            Progress::Bars(Terminal {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                fleet: Arc::default(),
            })
        } else {
            Progress::Lines
        }
    }

    /// The fleet runner's side of this progress.
    pub fn fleet(&self) -> FleetProgress {
        match self {
            Progress::Bars(terminal) => FleetProgress(Some(terminal.clone())),
            _ => FleetProgress(None),
        }
    }

    /// The printer for one database, from when it starts until it is done. While the
    /// fleet has its line, a database draws none of its own.
    pub fn database(&self, name: &str) -> DatabaseProgress {
        let bar = match self {
            Progress::Bars(terminal) if terminal.fleet_line().is_none() => {
                let bar = terminal.multi.add(ProgressBar::new_spinner());
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

/// What the fleet runner tells the progress: the run's size, and each database as it
/// starts and finishes. Does nothing off a terminal.
#[derive(Clone, Default)]
pub struct FleetProgress(Option<Terminal>);

impl std::fmt::Debug for FleetProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FleetProgress")
            .field(&self.0.is_some())
            .finish()
    }
}

impl FleetProgress {
    /// A run of `total` databases begins; more than one get the fleet's line.
    pub fn begin(&self, total: usize) {
        let Some(terminal) = &self.0 else { return };
        if total < 2 {
            return;
        }
        let bar = terminal
            .multi
            .add(ProgressBar::new(total as u64).with_style(fleet_style()));
        bar.enable_steady_tick(Duration::from_millis(120));
        *terminal.fleet_line() = Some(FleetLine {
            bar,
            failed: 0,
            skipped: 0,
            in_flight: Vec::new(),
        });
    }

    /// Database `name` starts.
    pub fn started(&self, name: &str) {
        self.update(|line| line.in_flight.push(controls(name).into_owned()));
    }

    /// Database `name` is done; `failed` when it failed or was interrupted.
    pub fn finished(&self, name: &str, failed: bool) {
        self.update(|line| {
            let name = controls(name);
            if let Some(i) = line.in_flight.iter().position(|n| *n == name) {
                line.in_flight.remove(i);
            }
            line.failed += usize::from(failed);
            line.bar.inc(1);
        });
    }

    /// `count` databases will not run: what they depend on failed.
    pub fn skipped(&self, count: usize) {
        if count > 0 {
            self.update(|line| {
                line.skipped += count;
                line.bar.inc(count as u64);
            });
        }
    }

    /// The run is over: the fleet's line goes.
    pub fn end(&self) {
        let Some(terminal) = &self.0 else { return };
        if let Some(line) = terminal.fleet_line().take() {
            line.bar.finish_and_clear();
        }
    }

    fn update(&self, change: impl FnOnce(&mut FleetLine)) {
        let Some(terminal) = &self.0 else { return };
        if let Some(line) = terminal.fleet_line().as_mut() {
            change(line);
            line.bar.set_prefix(outcome_text(line.failed, line.skipped));
            line.bar.set_message(in_flight_text(&line.in_flight));
        }
    }
}

/// The state behind the fleet's line.
struct FleetLine {
    bar: ProgressBar,
    failed: usize,
    skipped: usize,
    /// Names (escaped), in the order they started.
    in_flight: Vec<String>,
}

/// `⠋ 1,204/5,000 databases, 2 failed, ETA 3m 10s; in flight: m1205, m1206, ...`, the
/// names cut at the terminal's width.
fn fleet_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {human_pos}/{human_len} databases{prefix}, ETA {fleet_eta}{wide_msg}",
    )
    .expect("a valid template")
    .with_key(
        "fleet_eta",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let eta = eta_text(state.elapsed(), state.pos(), state.len().unwrap_or(0));
            let _ = w.write_str(&eta);
        },
    )
}

/// `, 2 failed, 10 skipped`, or nothing when all went well so far.
fn outcome_text(failed: usize, skipped: usize) -> String {
    let mut text = String::new();
    if failed > 0 {
        text.push_str(&format!(", {failed} failed"));
    }
    if skipped > 0 {
        text.push_str(&format!(", {skipped} skipped"));
    }
    text
}

/// The most databases named on the fleet line (`drift` may have the whole fleet in flight,
/// most of it waiting for a replay).
const IN_FLIGHT_NAMED: usize = 8;

/// `; in flight: m3, m7`, `; in flight: m1, ..., m8 and 92 more`, or nothing.
fn in_flight_text(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        n if n <= IN_FLIGHT_NAMED => format!("; in flight: {}", names.join(", ")),
        n => format!(
            "; in flight: {} and {} more",
            names[..IN_FLIGHT_NAMED].join(", "),
            n - IN_FLIGHT_NAMED
        ),
    }
}

/// The time left: the wall-clock time per finished database so far (which already
/// reflects how many run at once) times the databases left; `?` before the first.
fn eta_text(elapsed: Duration, done: u64, total: u64) -> String {
    if done == 0 {
        return "?".to_owned();
    }
    let left = elapsed.as_secs_f64() * total.saturating_sub(done) as f64 / done as f64;
    let secs = left.round() as u64;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
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
                        step.version_text(),
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
                        step.version_text(),
                        controls(&step.description)
                    ));
                }
            }
            Event::StepAlreadyDone { step } => {
                if self.lines {
                    redact::err(&format!(
                        "{db}: {} {} was done by another process",
                        step.version_text(),
                        controls(&step.description)
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_is_the_time_per_finished_database_times_those_left() {
        assert_eq!(eta_text(Duration::from_secs(10), 0, 100), "?");
        assert_eq!(eta_text(Duration::from_secs(10), 100, 5000), "8m 10s");
        assert_eq!(eta_text(Duration::from_secs(3), 3, 10), "7s");
        assert_eq!(eta_text(Duration::from_secs(60), 1, 120), "1h 59m");
        assert_eq!(eta_text(Duration::from_secs(1), 10, 10), "0s");
    }

    #[test]
    fn the_fleet_line_names_failures_and_what_is_in_flight() {
        assert_eq!(outcome_text(0, 0), "");
        assert_eq!(outcome_text(2, 10), ", 2 failed, 10 skipped");
        assert_eq!(in_flight_text(&[]), "");
        assert_eq!(
            in_flight_text(&["m3".into(), "m7".into()]),
            "; in flight: m3, m7"
        );
        let fleet: Vec<String> = (1..=100).map(|i| format!("m{i}")).collect();
        assert_eq!(
            in_flight_text(&fleet),
            "; in flight: m1, m2, m3, m4, m5, m6, m7, m8 and 92 more"
        );
    }
}
