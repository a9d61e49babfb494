//! Runs one piece of work per database, many at once: at most `concurrency` in flight,
//! each database after those it depends on, dependents of a failure skipped, canaries
//! before the other model databases, nothing new started once `--max-failures` (or
//! `--fail-fast`) trips or a signal arrives. Connections are opened by the
//! work itself and closed when it ends, so a fleet of 500 never holds 500 connections.

use crate::report::{DatabaseReport, Status};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use sha2::{Digest, Sha256};
use skein_config::ResolvedDatabase;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;

/// How the fleet runs.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub concurrency: usize,
    /// Start nothing new once this many databases have failed (`--fail-fast` is 1).
    pub max_failures: Option<usize>,
    /// Model databases that run first: the other model databases start only once every
    /// canary has succeeded.
    pub canaries: BTreeSet<String>,
    /// At most this many databases of one server at once (`max_per_host`), and each
    /// database's server (`host:port`; SQLite files have none).
    pub per_host: Option<(usize, HashMap<String, String>)>,
    /// Wait for (and skip after a failure of) the databases each one depends on. Off for
    /// commands where order does not matter (`down`, `stamp`, `repair`).
    pub follow_dependencies: bool,
    /// Set by the signal handler.
    pub stop: skein_core::stop::Stop,
    /// Told when each database starts and finishes (the fleet's line on a terminal).
    pub progress: crate::progress::FleetProgress,
}

/// Runs `work` for every database and returns the reports in the databases' order.
/// Each database is looked at a constant number of times (plus once per dependency), so a
/// fleet of 60,000 costs 60 times a fleet of 1,000.
pub async fn run<'a, F, Fut>(
    databases: &[&'a ResolvedDatabase],
    fleet: &Fleet,
    work: F,
) -> Vec<DatabaseReport>
where
    F: Fn(&'a ResolvedDatabase) -> Fut,
    Fut: Future<Output = DatabaseReport> + 'a,
{
    let mut order = Order::new(databases, fleet.follow_dependencies, &fleet.canaries);
    let mut reports: Vec<Option<DatabaseReport>> = databases.iter().map(|_| None).collect();
    let mut running = FuturesUnordered::new();
    let mut halted: Option<String> = None;
    let mut failures = 0usize;
    let mut servers = Servers::new(databases, fleet.per_host.as_ref());
    fleet.progress.begin(databases.len());
    loop {
        if halted.is_none() && fleet.stop.is_requested() {
            halted = Some("not started: interrupted".to_owned());
        }
        while halted.is_none() && running.len() < fleet.concurrency {
            let Some(i) = order.take_ready(|i| servers.has_room(i)) else {
                break;
            };
            servers.start(i);
            fleet.progress.started(&databases[i].name);
            let job = work(databases[i]);
            running.push(async move {
                let started = jiff::Timestamp::now();
                (i, job.await.timed(started))
            });
        }
        let Some((i, report)) = running.next().await else {
            break;
        };
        servers.finish(i);
        failures += usize::from(report.status == Status::Failed);
        let broke = matches!(report.status, Status::Failed | Status::Interrupted);
        fleet.progress.finished(&report.name, broke);
        if halted.is_none()
            && let Some(limit) = fleet.max_failures
            && failures >= limit
        {
            halted = Some(match limit {
                1 => format!("not started: --fail-fast after `{}` failed", report.name),
                _ => format!("not started: --max-failures {limit} reached"),
            });
        }
        let failed = matches!(
            report.status,
            Status::Failed | Status::Skipped | Status::Interrupted
        );
        let reason = if fleet.canaries.contains(&report.name) {
            format!(
                "not started: canary `{}` {}",
                report.name,
                verb(report.status)
            )
        } else {
            format!("skipped because `{}` {}", report.name, verb(report.status))
        };
        reports[i] = Some(report);
        if halted.is_none() {
            let skipped = order.finished(i, failed.then_some(reason), databases, &mut reports);
            fleet.progress.skipped(skipped);
        }
    }
    fleet.progress.end();
    reports
        .into_iter()
        .zip(databases)
        .map(|(report, db)| {
            report.unwrap_or_else(|| {
                let reason = halted.clone().unwrap_or_else(|| "not started".to_owned());
                DatabaseReport::skipped(&db.name, reason)
            })
        })
        .collect()
}

/// How many databases of each server are in flight, against `max_per_host`.
struct Servers {
    limit: usize,
    /// Each database's server, as an index into `in_flight`; `None`: no limit applies.
    server: Vec<Option<usize>>,
    in_flight: Vec<usize>,
}

impl Servers {
    fn new(
        databases: &[&ResolvedDatabase],
        per_host: Option<&(usize, HashMap<String, String>)>,
    ) -> Self {
        let Some((limit, hosts)) = per_host else {
            return Servers {
                limit: usize::MAX,
                server: vec![None; databases.len()],
                in_flight: Vec::new(),
            };
        };
        let mut index: HashMap<&str, usize> = HashMap::new();
        let server = databases
            .iter()
            .map(|db| {
                let host = hosts.get(&db.name)?;
                let next = index.len();
                Some(*index.entry(host.as_str()).or_insert(next))
            })
            .collect();
        Servers {
            limit: *limit,
            server,
            in_flight: vec![0; index.len()],
        }
    }

    fn has_room(&self, i: usize) -> bool {
        self.server[i].is_none_or(|s| self.in_flight[s] < self.limit)
    }

    fn start(&mut self, i: usize) {
        if let Some(s) = self.server[i] {
            self.in_flight[s] += 1;
        }
    }

    fn finish(&mut self, i: usize) {
        if let Some(s) = self.server[i] {
            self.in_flight[s] -= 1;
        }
    }
}

/// The server a database URL points at, as `host:port` with the default port filled in;
/// `None` for SQLite.
pub fn server_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = skein_schemes::Kind::of_scheme(scheme)?
        .schemes()
        .default_port?
        .to_string();
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host.to_ascii_lowercase();
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(']'));
    Some(if has_port {
        host
    } else {
        format!("{host}:{default_port}")
    })
}

/// Which databases may start: those whose dependencies (within the run) have all finished.
struct Order {
    /// The databases that depend on each one.
    dependents: Vec<Vec<usize>>,
    /// How many of each one's dependencies have not finished.
    waiting: Vec<usize>,
    /// Ready to start, in the databases' order.
    ready: BTreeSet<usize>,
}

impl Order {
    fn new(
        databases: &[&ResolvedDatabase],
        follow_dependencies: bool,
        canaries: &BTreeSet<String>,
    ) -> Self {
        let position: HashMap<&str, usize> = databases
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.as_str(), i))
            .collect();
        let mut dependents = vec![Vec::new(); databases.len()];
        let mut waiting = vec![0; databases.len()];
        if follow_dependencies {
            for (i, db) in databases.iter().enumerate() {
                let mut dependencies: Vec<usize> = db
                    .depends_on
                    .iter()
                    .filter_map(|d| position.get(d.as_str()).copied())
                    .collect();
                dependencies.sort_unstable();
                dependencies.dedup();
                waiting[i] = dependencies.len();
                for j in dependencies {
                    dependents[j].push(i);
                }
            }
        }
        // Every other model database waits for every canary.
        let canary: Vec<usize> = (0..databases.len())
            .filter(|&i| canaries.contains(&databases[i].name))
            .collect();
        if !canary.is_empty() {
            for (i, db) in databases.iter().enumerate() {
                if db.is_model && !canaries.contains(&db.name) {
                    waiting[i] += canary.len();
                    for &c in &canary {
                        dependents[c].push(i);
                    }
                }
            }
        }
        let ready = (0..databases.len()).filter(|&i| waiting[i] == 0).collect();
        Order {
            dependents,
            waiting,
            ready,
        }
    }

    /// The first ready database that `may_start` allows, taken off the ready set.
    fn take_ready(&mut self, may_start: impl Fn(usize) -> bool) -> Option<usize> {
        let i = self.ready.iter().copied().find(|&i| may_start(i))?;
        self.ready.remove(&i);
        Some(i)
    }

    /// Database `i` is done. With `skip` (it failed), the databases that depend on it,
    /// directly or not, are skipped with that reason; otherwise they may become ready.
    /// Returns how many were skipped.
    fn finished(
        &mut self,
        i: usize,
        skip: Option<String>,
        databases: &[&ResolvedDatabase],
        reports: &mut [Option<DatabaseReport>],
    ) -> usize {
        let mut skipped = 0;
        let mut done = vec![(i, skip)];
        while let Some((j, skip)) = done.pop() {
            for k in std::mem::take(&mut self.dependents[j]) {
                if reports[k].is_some() {
                    continue;
                }
                match &skip {
                    Some(reason) => {
                        self.ready.remove(&k);
                        skipped += 1;
                        reports[k] =
                            Some(DatabaseReport::skipped(&databases[k].name, reason.clone()));
                        let name = &databases[k].name;
                        done.push((k, Some(format!("skipped because `{name}` was skipped"))));
                    }
                    None => {
                        self.waiting[k] -= 1;
                        if self.waiting[k] == 0 {
                            self.ready.insert(k);
                        }
                    }
                }
            }
        }
        skipped
    }
}

fn verb(status: Status) -> &'static str {
    match status {
        Status::Failed => "failed",
        Status::Interrupted => "was interrupted",
        _ => "was skipped",
    }
}

/// The databases of shard `k` of `n` by a stable hash of their names, plus every
/// database they depend on (the lock makes it safe for several shards to try those).
pub fn shard<'a>(
    databases: Vec<&'a ResolvedDatabase>,
    all: &'a [ResolvedDatabase],
    (k, n): (u32, u32),
) -> Vec<&'a ResolvedDatabase> {
    let by_name: HashMap<&str, &ResolvedDatabase> =
        all.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    let mut to_visit: Vec<&str> = databases
        .iter()
        .filter(|db| shard_of(&db.name, n) == k)
        .map(|db| db.name.as_str())
        .collect();
    // Add dependencies, each database once.
    while let Some(name) = to_visit.pop() {
        if wanted.insert(name)
            && let Some(db) = by_name.get(name)
        {
            to_visit.extend(db.depends_on.iter().map(String::as_str));
        }
    }
    all.iter()
        .filter(|d| wanted.contains(d.name.as_str()))
        .collect()
}

/// The shard a database name falls in: the same on every machine and every version.
pub fn shard_of(name: &str, shards: u32) -> u32 {
    let digest = Sha256::digest(name.as_bytes());
    let value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (value % u64::from(shards)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_host_and_port() {
        assert_eq!(
            server_of("postgres://u:p@DB.example:6432/x?sslmode=require").as_deref(),
            Some("db.example:6432")
        );
        assert_eq!(server_of("postgresql://db/x").as_deref(), Some("db:5432"));
        assert_eq!(
            server_of("mysql://root@127.0.0.1/x").as_deref(),
            Some("127.0.0.1:3306")
        );
        assert_eq!(
            server_of("postgres://[::1]/x").as_deref(),
            Some("[::1]:5432")
        );
        assert_eq!(
            server_of("postgres://[::1]:7/x").as_deref(),
            Some("[::1]:7")
        );
        assert_eq!(server_of("sqlite://data/x.db"), None);
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("blub_test", 4), shard_of("blub_test", 4));
        let counts = (0..1000).fold([0_u32; 4], |mut counts, i| {
            counts[shard_of(&format!("model_{i}"), 4) as usize] += 1;
            counts
        });
        assert!(counts.iter().all(|&c| c > 200), "{counts:?}");
    }
}
