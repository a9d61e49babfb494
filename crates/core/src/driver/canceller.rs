//! A second line to the server for the session that migrates: it cancels the statement in
//! flight (PostgreSQL: `pg_cancel_backend`; MySQL: `KILL CONNECTION`) (a step limit, a stop request) and asks whether that session is still there
//! (a liveness probe while a step runs long). Each use opens a short connection of its own
//! with the same URL, so it works while the migrating session is busy or stuck.

use crate::backend::Kind;
use std::time::Duration;

/// How to reach the migrating session from outside it.
#[derive(Debug, Clone)]
pub struct Canceller {
    url: String,
    session: Session,
}

/// The migrating session, as its server numbers it (PostgreSQL's backend pid, MySQL's
/// connection id).
#[derive(Debug, Clone, Copy)]
struct Session {
    kind: Kind,
    id: i64,
}

/// What a liveness probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The server answered, and the session is there.
    Alive,
    /// The server answered: the session is gone.
    Gone,
    /// No answer (or an error): nothing is known.
    NoAnswer,
}

impl Canceller {
    /// The session `id` of a database of kind `kind` at `url`.
    pub(crate) fn new(kind: Kind, url: &str, id: i64) -> Self {
        Canceller {
            url: url.to_owned(),
            session: Session { kind, id },
        }
    }

    /// Asks the server to cancel the session's statement; `true` if it said it would.
    /// Gives up after `within`.
    pub async fn cancel(&self, within: Duration) -> bool {
        let attempt =
            crate::backend::of_kind(self.session.kind).cancel_session(&self.url, self.session.id);
        matches!(tokio::time::timeout(within, attempt).await, Ok(Some(true)))
    }

    /// Whether the server answers, and still has the session; gives up after `within`.
    pub async fn probe(&self, within: Duration) -> Liveness {
        let attempt =
            crate::backend::of_kind(self.session.kind).session_exists(&self.url, self.session.id);
        match tokio::time::timeout(within, attempt).await {
            Ok(Some(true)) => Liveness::Alive,
            Ok(Some(false)) => Liveness::Gone,
            _ => Liveness::NoAnswer,
        }
    }
}
