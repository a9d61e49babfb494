//! Runs one piece of work per database, many at once: at most `concurrency` in flight,
//! each database after those it depends on, dependents of a failure skipped, nothing new
//! started after `--fail-fast` trips or a signal arrives. Connections are opened by the
//! work itself and closed when it ends, so a fleet of 500 never holds 500 connections.

use crate::cli::FleetArgs;
use crate::report::{DatabaseReport, Status};
use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use sha2::{Digest, Sha256};
use skein_config::ResolvedDatabase;
use std::collections::BTreeSet;
use std::future::Future;

/// How the fleet runs.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub concurrency: usize,
    pub fail_fast: bool,
    /// Wait for (and skip after a failure of) the databases each one depends on. Off for
    /// commands where order does not matter (`down`, `stamp`, `repair`).
    pub follow_dependencies: bool,
    /// Set by the signal handler.
    pub stop: skein_core::stop::Stop,
}

/// Runs `work` for every database and returns the reports in the databases' order.
pub async fn run<'a, F, Fut>(
    databases: &[&'a ResolvedDatabase],
    fleet: &Fleet,
    work: F,
) -> Vec<DatabaseReport>
where
    F: Fn(&'a ResolvedDatabase) -> Fut,
    Fut: Future<Output = DatabaseReport> + 'a,
{
    let position = |name: &str| databases.iter().position(|d| d.name == name);
    let mut reports: Vec<Option<DatabaseReport>> = databases.iter().map(|_| None).collect();
    let mut started = vec![false; databases.len()];
    let mut running = FuturesUnordered::new();
    let mut halted: Option<String> = None;
    loop {
        if halted.is_none() && fleet.stop.is_requested() {
            halted = Some("not started: interrupted".to_owned());
        }
        if halted.is_none() {
            for (i, db) in databases.iter().enumerate() {
                if running.len() >= fleet.concurrency {
                    break;
                }
                if started[i] {
                    continue;
                }
                let dependencies: Vec<usize> = if fleet.follow_dependencies {
                    db.depends_on.iter().filter_map(|d| position(d)).collect()
                } else {
                    Vec::new()
                };
                let blocked = dependencies.iter().find_map(|&j| {
                    reports[j]
                        .as_ref()
                        .filter(|r| {
                            matches!(
                                r.status,
                                Status::Failed | Status::Skipped | Status::Interrupted
                            )
                        })
                        .map(|r| format!("skipped because `{}` {}", r.name, verb(r.status)))
                });
                if let Some(reason) = blocked {
                    started[i] = true;
                    reports[i] = Some(DatabaseReport::skipped(&db.name, reason));
                } else if dependencies.iter().all(|&j| reports[j].is_some()) {
                    started[i] = true;
                    let job = work(db);
                    running.push(async move { (i, job.await) });
                }
            }
        }
        let Some((i, report)) = running.next().await else {
            break;
        };
        if fleet.fail_fast && report.status == Status::Failed && halted.is_none() {
            halted = Some(format!(
                "not started: --fail-fast after `{}` failed",
                report.name
            ));
        }
        reports[i] = Some(report);
    }
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

fn verb(status: Status) -> &'static str {
    match status {
        Status::Failed => "failed",
        Status::Interrupted => "was interrupted",
        _ => "was skipped",
    }
}

/// Which shard to run: `K/N`, or `auto` with K from JOB_COMPLETION_INDEX and N from
/// `--shards` / SKEIN_SHARDS.
pub fn parse_shard(args: &FleetArgs) -> anyhow::Result<Option<(u32, u32)>> {
    let Some(shard) = &args.shard else {
        return Ok(None);
    };
    let (k, n) = if shard == "auto" {
        let index = std::env::var("JOB_COMPLETION_INDEX")
            .context("--shard auto needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job)")?;
        let k: u32 = index
            .parse()
            .with_context(|| format!("JOB_COMPLETION_INDEX `{index}` is not a number"))?;
        let n = args
            .shards
            .context("--shard auto needs the shard count: --shards N or SKEIN_SHARDS")?;
        (k, n)
    } else {
        let (k, n) = shard
            .split_once('/')
            .context("--shard is K/N (e.g. 0/4) or auto")?;
        (
            k.trim().parse().context("--shard K/N: K is not a number")?,
            n.trim().parse().context("--shard K/N: N is not a number")?,
        )
    };
    if n == 0 || k >= n {
        bail!("--shard {k}/{n}: K must be between 0 and N-1");
    }
    Ok(Some((k, n)))
}

/// The databases of shard `k` of `n` by a stable hash of their names, plus every
/// database they depend on (the lock makes it safe for several shards to try those).
pub fn shard<'a>(
    databases: Vec<&'a ResolvedDatabase>,
    all: &'a [ResolvedDatabase],
    (k, n): (u32, u32),
) -> Vec<&'a ResolvedDatabase> {
    let mut wanted: BTreeSet<&str> = databases
        .iter()
        .filter(|db| shard_of(&db.name, n) == k)
        .map(|db| db.name.as_str())
        .collect();
    // Add dependencies until nothing changes.
    loop {
        let before = wanted.len();
        let dependencies: Vec<&str> = all
            .iter()
            .filter(|d| wanted.contains(d.name.as_str()))
            .flat_map(|d| d.depends_on.iter().map(String::as_str))
            .collect();
        wanted.extend(dependencies);
        if wanted.len() == before {
            break;
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
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("blub_test", 4), shard_of("blub_test", 4));
        let counts = (0..1000).fold([0_u32; 4], |mut counts, i| {
            counts[shard_of(&format!("model_{i}"), 4) as usize] += 1;
            counts
        });
        assert!(counts.iter().all(|&c| c > 200), "{counts:?}");
    }
}
