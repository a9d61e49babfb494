//! Ctrl-C and SIGTERM: the first asks the run to stop within seconds: it starts nothing
//! new, every wait ends (a connection retry, a lock wait), a step in a transaction is
//! cancelled on the server and rolled back (a step outside one cannot be undone, so it is
//! left to finish), locks are released and the report is printed. A second one ends the
//! process at once (the server then rolls back what was in flight and frees the locks of
//! the closed sessions), after dropping any scratch database in use.

use skein_core::stop::Stop;
use std::sync::atomic::{AtomicU8, Ordering};

/// The signal received, as the exit code it asks for (130 SIGINT, 143 SIGTERM), or 0.
static RECEIVED: AtomicU8 = AtomicU8::new(0);

/// Installs the handlers; returns the stop request they make. They run on a thread of
/// their own, with a runtime of their own, so that a signal is seen at once even while
/// every worker of the command's runtime is busy (rendering a template, say).
pub fn install() -> Stop {
    let stop = Stop::default();
    let flag = stop.clone();
    let (ready, installed) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("skein-signals".to_owned())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                let _ = ready.send(());
                return;
            };
            runtime.block_on(handle(flag, ready));
        });
    if spawned.is_ok() {
        // The handlers are in place before the run starts.
        let _ = installed.recv();
    }
    stop
}

async fn handle(flag: Stop, ready: std::sync::mpsc::Sender<()>) {
    let signals = Signals::install();
    let _ = ready.send(());
    let Some(mut next) = signals else {
        return;
    };
    {
        loop {
            let code = next.received().await;
            if RECEIVED.swap(code, Ordering::SeqCst) != 0 {
                crate::redact::err("skein: stopping now");
                drop_scratch_databases().await;
                std::process::exit(i32::from(code));
            }
            crate::redact::err(
                "skein: stopping: steps in a transaction are cancelled and rolled back (signal again to stop at once)",
            );
            flag.request();
            skein_core::source::template::stop_rendering();
        }
    }
}

/// The signals that stop a run: Ctrl-C and, on Unix, SIGTERM.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Option<Self> {
        Some(Signals {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .ok()?,
        })
    }

    /// The next signal, as the exit code it asks for.
    async fn received(&mut self) -> u8 {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => 130,
                _ = self.terminate.recv() => 143,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            130
        }
    }
}

/// Scratch databases (from `drift`, `converge`, `new --from-schema`) are dropped even
/// when stopping at once; each gets a couple of seconds.
async fn drop_scratch_databases() {
    for url in skein_core::schema::replay::scratch_databases() {
        let drop = skein_core::driver::drop_database(&url);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), drop).await;
    }
}

/// The exit code a received signal asks for.
pub fn exit_code() -> Option<u8> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}
