//! A TCP proxy on loopback that can freeze: it stops passing bytes either way but keeps
//! every connection open, as a network that goes dead without a reset does. New
//! connections are accepted and frozen too. Dropping it closes everything.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct FreezingProxy {
    pub port: u16,
    frozen: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
}

impl FreezingProxy {
    /// Forwards `127.0.0.1:<port>` to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Self {
        Self::start_on("127.0.0.1:0", upstream)
    }

    /// Forwards `<bind>` (an address with port 0, e.g. `[::1]:0`) to `upstream`.
    pub fn start_on(bind: &str, upstream: &str) -> Self {
        let listener = TcpListener::bind(bind).expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_owned();
        let (f, c) = (frozen.clone(), closed.clone());
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            while !c.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        for (from, to) in [
                            (client.try_clone().unwrap(), server.try_clone().unwrap()),
                            (server, client),
                        ] {
                            let (f, c) = (f.clone(), c.clone());
                            std::thread::spawn(move || pump(from, to, &f, &c));
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FreezingProxy {
            port,
            frozen,
            closed,
        }
    }

    /// From now on, nothing passes either way.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
}

impl Drop for FreezingProxy {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, frozen: &AtomicBool, closed: &AtomicBool) {
    from.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buffer = [0u8; 16 * 1024];
    while !closed.load(Ordering::SeqCst) {
        if frozen.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
