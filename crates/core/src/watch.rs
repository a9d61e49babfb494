//! Watches a call on the migrating session while it is in flight: a step limit, a stop
//! request and the server's liveness. A limit or a stop cancels the statement on the
//! server (through a second connection) and gives the call a moment to roll back; a
//! server that stops answering (a frozen network) ends the call, so skein never hangs
//! on a dead peer while it holds the lock.

use crate::driver::{Canceller, Liveness};
use crate::error::{Error, Result};
use crate::stop::Stop;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How long a cancel request may take, and then how long the call gets to wind up.
const CANCEL_WITHIN: Duration = Duration::from_secs(2);
const WIND_UP_WITHIN: Duration = Duration::from_secs(2);

/// What a call is watched for.
#[derive(Debug)]
pub struct Watch<'a> {
    pub canceller: Option<&'a Canceller>,
    pub stop: &'a Stop,
    /// A stop request cancels the call (not for a step outside a transaction: it could not
    /// be undone, so it is left to finish).
    pub cancel_on_stop: bool,
    /// The step limit, and the error that says it was reached.
    pub limit: Option<(Duration, Error)>,
    /// How often the server is probed while the call runs, and how long a probe may take.
    pub liveness: Duration,
    /// What the call is, for messages (`running 3_add_index.up.sql`).
    pub doing: String,
}

/// Runs `call` under `watch`.
pub async fn watched<T>(call: impl Future<Output = Result<T>>, watch: Watch<'_>) -> Result<T> {
    tokio::pin!(call);
    let started = Instant::now();
    let Watch {
        canceller,
        stop,
        cancel_on_stop,
        limit,
        liveness,
        doing,
    } = watch;
    let (limit_at, mut limit_error) = match limit {
        Some((limit, error)) => (Some(started + limit), Some(error)),
        None => (None, None),
    };
    let mut next_probe = started + liveness;
    let mut probe = None;
    let mut unanswered = 0u32;
    loop {
        tokio::select! {
            result = &mut call => return result,
            () = sleep_until(limit_at) => {
                let error = limit_error.take().expect("the limit fires once");
                return interrupt(call, canceller, error).await;
            }
            () = stop.requested(), if cancel_on_stop => {
                return interrupt(call, canceller, Error::Stopped { during: STOPPED }).await;
            }
            () = tokio::time::sleep_until(next_probe), if probe.is_none() && canceller.is_some() => {
                let canceller = canceller.expect("checked").clone();
                probe = Some(Box::pin(async move { canceller.probe(liveness).await }));
            }
            found = async { probe.as_mut().expect("checked").await }, if probe.is_some() => {
                probe = None;
                next_probe = Instant::now() + liveness;
                match found {
                    Liveness::Alive => unanswered = 0,
                    Liveness::Gone => return Err(Error::ConnectionLost { doing, waited: started.elapsed(), gone: true }),
                    Liveness::NoAnswer => {
                        unanswered += 1;
                        if unanswered >= 2 {
                            return Err(Error::ConnectionLost { doing, waited: started.elapsed(), gone: false });
                        }
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What a stop did to the step in flight, when the server confirmed it.
const STOPPED: &str = "a migration step ran; it was cancelled and rolled back";
/// ... and when the server could not be reached to cancel it.
const STOPPED_UNCONFIRMED: &str = "a migration step ran, and the server could not be reached to cancel it: it (and any step sent with it) finishes or rolls back there on its own (a step in a transaction is whole or absent); see `skein status`";

/// Cancels the call's statement on the server, then waits a moment for the call to end
/// (rolled back). If it finished meanwhile, its result stands. When the server cannot be
/// reached to cancel it, nothing is waited for, and the error does not claim a rollback.
async fn interrupt<T>(
    mut call: std::pin::Pin<&mut impl Future<Output = Result<T>>>,
    canceller: Option<&Canceller>,
    error: Error,
) -> Result<T> {
    let cancelled = match canceller {
        Some(canceller) => tokio::select! {
            result = &mut call => return result.or(Err(error)),
            sent = canceller.cancel(CANCEL_WITHIN) => sent,
        },
        // SQLite: the statement ends with the process; give it the same moment.
        None => true,
    };
    if !cancelled {
        return Err(unconfirmed(error));
    }
    match tokio::time::timeout(WIND_UP_WITHIN, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(error),
        Err(_) => Err(unconfirmed(error)),
    }
}

/// `error`, saying that the server did not confirm the cancel.
fn unconfirmed(error: Error) -> Error {
    match error {
        Error::Stopped { .. } => Error::Stopped {
            during: STOPPED_UNCONFIRMED,
        },
        Error::StepTimeout {
            version,
            limit,
            transactional,
            ..
        } => Error::StepTimeout {
            version,
            limit,
            transactional,
            confirmed: false,
        },
        other => other,
    }
}
