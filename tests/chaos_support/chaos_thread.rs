//! The chaos thread: steps through a plan's fault schedule while the
//! producers run, undoes the timed faults (brokers back up, delays
//! removed) when their time is up, and heals the cluster when told to
//! stop. It writes down what it did and when, for a failing seed's report.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::ApiKey;
use kafka_producer::util::clock::{Clock, SystemClock};

use super::plan::{Fault, Plan, BROKERS};

/// Something to undo later.
#[derive(Debug)]
pub enum Undo {
    BrokerUp(i32),
    Undelay(Option<i32>, Option<ApiKey>),
}

/// Applies one fault now; returns what to undo and when, if anything.
pub fn apply(cluster: &MockCluster, fault: &Fault) -> (Option<(Duration, Undo)>, String) {
    let mut note = String::new();
    let undo = match fault {
        Fault::PartitionErrors {
            topic,
            partition,
            codes,
        } => {
            cluster.push_partition_errors(topic, *partition, codes);
            None
        }
        Fault::FatalPartitionError {
            topic,
            partition,
            code,
        } => {
            cluster.push_partition_errors(topic, *partition, &[*code]);
            None
        }
        Fault::RequestErrors { api, codes } => {
            cluster.push_request_errors(*api, codes);
            None
        }
        Fault::Delay {
            broker,
            api,
            delay,
            for_,
        } => {
            cluster.delay_responses(*broker, *api, *delay);
            Some((*for_, Undo::Undelay(*broker, *api)))
        }
        Fault::Drop {
            broker,
            api,
            n,
            how,
        } => {
            cluster.drop_connection_after(*broker, *api, *n, *how);
            None
        }
        Fault::Corrupt { broker, api, how } => {
            cluster.corrupt_next_response(*broker, *api, *how);
            None
        }
        Fault::BrokerDown { broker, for_ } => {
            if cluster.is_broker_up(*broker) {
                cluster.broker_down(*broker).expect("a known broker");
                Some((*for_, Undo::BrokerUp(*broker)))
            } else {
                note = " (already down)".to_owned();
                None
            }
        }
        Fault::MoveLeader {
            topic,
            partition,
            to,
        } => {
            // The first live broker from `to` on, in id order, wrapping.
            let live = (0..BROKERS)
                .map(|i| (to - 1 + i) % BROKERS + 1)
                .find(|&b| cluster.is_broker_up(b));
            match live {
                Some(b) => {
                    cluster
                        .set_partition_leader(topic, *partition, b)
                        .expect("a known partition and a live broker");
                    if b != *to {
                        note = format!(" (broker {to} down: to {b})");
                    }
                }
                None => note = " (skipped: every broker down)".to_owned(),
            }
            None
        }
    };
    (undo, note)
}

fn undo(cluster: &MockCluster, what: &Undo) {
    match what {
        Undo::BrokerUp(b) => cluster
            .broker_up(*b)
            .unwrap_or_else(|e| panic!("broker {b} cannot come back up: {e}")),
        Undo::Undelay(broker, api) => cluster.delay_responses(*broker, *api, Duration::ZERO),
    }
}

/// Runs the plan's steps against `cluster` until `stop` is set, then
/// heals it: every timed fault undone, every queued fault forgotten,
/// every broker up. Returns the log of what happened.
pub fn run(
    cluster: &MockCluster,
    plan: &Plan,
    acked: &AtomicU64,
    stop: &AtomicBool,
) -> Vec<String> {
    let clock = SystemClock;
    let start = clock.now();
    let at = |now: Instant| now.saturating_duration_since(start).as_millis();
    let mut log = Vec::new();
    let mut pending: Vec<(Instant, Undo)> = Vec::new();
    let mut steps = plan.steps.iter().peekable();
    let mut last_step = start;
    while !stop.load(Ordering::SeqCst) {
        let now = clock.now();
        // Undo what is due, in deadline order.
        pending.sort_by_key(|(when, _)| *when);
        while pending.first().is_some_and(|(when, _)| *when <= now) {
            let (_, what) = pending.remove(0);
            undo(cluster, &what);
            log.push(format!("t+{}ms: undo {what:?}", at(now)));
        }
        let acks = acked.load(Ordering::SeqCst);
        if let Some(step) = steps.peek() {
            let gap = now.saturating_duration_since(last_step);
            if acks >= step.after_acked || gap >= plan.max_gap {
                let (u, note) = apply(cluster, &step.fault);
                log.push(format!(
                    "t+{}ms acked={acks}: {}{note}",
                    at(now),
                    step.fault
                ));
                if let Some((after, what)) = u {
                    pending.push((now + after, what));
                }
                last_step = now;
                steps.next();
                continue;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let now = clock.now();
    for (_, what) in pending.drain(..) {
        undo(cluster, &what);
        log.push(format!("t+{}ms: undo {what:?} (stop)", at(now)));
    }
    let skipped = steps.count();
    if skipped > 0 {
        log.push(format!("{skipped} steps not reached"));
    }
    cluster.clear_faults();
    for b in 1..=BROKERS {
        undo(cluster, &Undo::BrokerUp(b));
    }
    log
}
