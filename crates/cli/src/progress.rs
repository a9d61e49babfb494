//! Progress lines on stderr while steps run (human format only).

use skein_core::engine::{Event, EventSink};
use skein_core::plan::Direction;

pub struct ProgressPrinter {
    database: String,
    enabled: bool,
}

impl ProgressPrinter {
    pub fn new(database: &str, enabled: bool) -> Self {
        ProgressPrinter {
            database: database.to_owned(),
            enabled,
        }
    }
}

impl EventSink for ProgressPrinter {
    fn event(&self, event: Event<'_>) {
        if !self.enabled {
            return;
        }
        let db = &self.database;
        match event {
            Event::Planned { .. } | Event::StepStarted { .. } => {}
            Event::StepFinished { step, ms } => {
                let verb = match step.direction {
                    Direction::Up => "applied",
                    Direction::Down => "reverted",
                };
                crate::redact::err(&format!(
                    "{db}: {verb} {} {} ({ms} ms)",
                    step.version, step.description
                ));
            }
            Event::StepAlreadyDone { step } => {
                crate::redact::err(&format!(
                    "{db}: {} {} was done by another process",
                    step.version, step.description
                ));
            }
        }
    }
}
