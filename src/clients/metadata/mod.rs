//! Client metadata (Java `org.apache.kafka.clients.Metadata`): the current
//! [`Cluster`] snapshot, when to refresh it, what to ask for, how a
//! response changes it, and the versioned wait that caller threads block on.
//!
//! Socket-free: the network thread asks [`Metadata::time_to_next_update`]
//! and [`Metadata::new_metadata_request`], sends the request itself, and
//! hands the answer to [`Metadata::update`] (or [`Metadata::failed_update`]).
//! Caller threads read [`Metadata::fetch`] and wait in
//! [`Metadata::await_update`].
//!
//! ```text
//!  caller thread                         network thread
//!  v = request_update*()  ───────────▶   time_to_next_update(now) == 0
//!  wake the sender                       (req, rv, partial) = new_metadata_request(now)
//!  await_update(v, deadline)             ... send, receive ...
//!    Condvar wait until                  update(rv, response, partial, now)
//!    version > v, closed,                  version += 1, new Arc<Cluster>,
//!    fatal error or deadline  ◀───────     notify_all
//! ```
//!
//! What is generic lives here; which topics to ask for and when to forget
//! one is a [`TopicPolicy`] (Java's overridable methods), so that the
//! producer's rules sit in `producer::internals::producer_metadata`, as
//! Java's `ProducerMetadata` does. The files: [`snapshot`] (the raw
//! metadata and its `Cluster` view, merging), [`update`] (turning a
//! response into a snapshot, leader epochs, KIP-951 leader hints).
//!
//! One `parking_lot::Mutex` guards the state; the published `Arc<Cluster>`
//! sits behind its own `RwLock`, held only to clone or swap the `Arc`, so
//! readers never wait for an update to be computed. Lock order: state, then
//! cluster.

pub(crate) mod snapshot;
pub(crate) mod update;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::common::{Cluster, TopicPartition};
use crate::error::Error;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use crate::util::backoff::{ExponentialBackoff, RETRY_BACKOFF_EXP_BASE, RETRY_BACKOFF_JITTER};
use crate::util::clock::Clock;

use snapshot::Snapshot;

/// The settings metadata needs, as plain values (not `ProducerConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetadataParams {
    /// `retry.backoff.ms`: the first gap between two refreshes.
    pub(crate) refresh_backoff: Duration,
    /// `retry.backoff.max.ms`: the gap grows exponentially up to this.
    pub(crate) refresh_backoff_max: Duration,
    /// `metadata.max.age.ms`: a full refresh at least this often.
    pub(crate) metadata_max_age: Duration,
    /// `metadata.recovery.strategy=rebootstrap` (KIP-899).
    pub(crate) rebootstrap: bool,
    /// `metadata.recovery.rebootstrap.trigger.ms`.
    pub(crate) rebootstrap_trigger: Duration,
    /// The random spread of the backoff: Java's 0.2; tests use 0.
    pub(crate) backoff_jitter: f64,
}

impl Default for MetadataParams {
    /// Java's defaults.
    fn default() -> Self {
        MetadataParams {
            refresh_backoff: Duration::from_millis(100),
            refresh_backoff_max: Duration::from_millis(1000),
            metadata_max_age: Duration::from_millis(300_000),
            rebootstrap: true,
            rebootstrap_trigger: Duration::from_millis(300_000),
            backoff_jitter: RETRY_BACKOFF_JITTER,
        }
    }
}

/// What a client wants from metadata (Java's overridable `Metadata`
/// methods): which topics to keep and which to ask for.
pub(crate) trait TopicPolicy: Send + 'static {
    /// Whether to keep a topic's metadata (Java `retainTopic`); may forget
    /// the topic as a side effect (producer topic expiry).
    fn retain_topic(&mut self, _topic: &str, _is_internal: bool, _now: Instant) -> bool {
        true
    }

    /// The request for a full update (default: every topic).
    fn full_request(&self) -> MetadataRequest {
        MetadataRequest::all_topics(true)
    }

    /// The request for the new topics only, or `None` when partial updates
    /// are not supported (the default).
    fn partial_request(&self) -> Option<MetadataRequest> {
        None
    }

    /// Called after a response was applied (Java `ProducerMetadata.update`).
    fn on_update(&mut self, _response: &MetadataResponse) {}
}

/// The generic policy: every topic, no partial updates.
#[derive(Debug, Default)]
#[allow(dead_code)] // the generic policy, for tests and other clients
pub(crate) struct AllTopics;

impl TopicPolicy for AllTopics {}

/// A request to send and what to hand back to [`Metadata::update`] with
/// its answer (Java `MetadataRequestAndVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetadataRequestAndVersion {
    /// The request body.
    pub(crate) request: MetadataRequest,
    /// The request version, passed back to `update`.
    pub(crate) request_version: u64,
    /// Whether the request asked for the new topics only.
    pub(crate) is_partial_update: bool,
}

/// What [`Metadata::update`] did with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpdateOutcome {
    /// A new snapshot was published and waiters were woken.
    Updated,
    /// No brokers in the response (a broker still starting): recorded as a
    /// failed update, the snapshot is unchanged.
    IgnoredEmpty,
    /// The broker answered `REBOOTSTRAP_REQUIRED` and the recovery strategy
    /// is `rebootstrap`: [`Metadata::needs_rebootstrap`] now says yes.
    RebootstrapRequested,
    /// The metadata is closed; nothing changed.
    Closed,
}

/// When the current attempt to get metadata began (Java
/// `metadataAttemptStartMs`), for `metadata.recovery.rebootstrap.trigger.ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttemptStart {
    At(Instant),
    /// The broker asked for a rebootstrap: do it at once.
    Forced,
}

/// The state behind the lock that is not the topic policy's (Java
/// `Metadata`'s fields).
#[derive(Debug)]
pub(crate) struct Core {
    params: MetadataParams,
    refresh_backoff: ExponentialBackoff,
    /// +1 per successful update (and per bootstrap).
    update_version: u64,
    /// +1 per request for new topics.
    request_version: u64,
    /// `None`: as if long ago (Java's 0).
    last_refresh: Option<Instant>,
    last_successful_refresh: Option<Instant>,
    attempts: u64,
    equivalent_response_count: u64,
    need_full_update: bool,
    need_partial_update: bool,
    fatal: Option<Error>,
    /// Topic errors of the last update, cleared once reported.
    invalid_topics: HashSet<String>,
    unauthorized_topics: HashSet<String>,
    snapshot: Snapshot,
    closed: bool,
    last_seen_leader_epochs: HashMap<TopicPartition, i32>,
    bootstrap_addresses: Vec<(String, u16)>,
    attempt_start: Option<AttemptStart>,
}

impl Core {
    fn new(params: MetadataParams) -> Self {
        Core {
            params,
            refresh_backoff: ExponentialBackoff::new(
                params.refresh_backoff,
                RETRY_BACKOFF_EXP_BASE,
                params.refresh_backoff_max,
                params.backoff_jitter,
            ),
            update_version: 0,
            request_version: 0,
            last_refresh: None,
            last_successful_refresh: None,
            attempts: 0,
            equivalent_response_count: 0,
            need_full_update: false,
            need_partial_update: false,
            fatal: None,
            invalid_topics: HashSet::new(),
            unauthorized_topics: HashSet::new(),
            snapshot: Snapshot::empty(),
            closed: false,
            last_seen_leader_epochs: HashMap::new(),
            bootstrap_addresses: Vec::new(),
            attempt_start: None,
        }
    }

    /// Java `requestUpdate(resetEquivalentResponseBackoff)`: a full update
    /// is wanted; returns the version to wait past.
    pub(crate) fn request_update(&mut self, reset_equivalent_response_backoff: bool) -> u64 {
        self.need_full_update = true;
        if reset_equivalent_response_backoff {
            self.equivalent_response_count = 0;
        }
        self.update_version
    }

    /// Java `requestUpdateForNewTopics`: an update for new topics, at once
    /// (the refresh backoff is waived).
    pub(crate) fn request_update_for_new_topics(&mut self) -> u64 {
        self.last_refresh = None;
        self.need_partial_update = true;
        self.equivalent_response_count = 0;
        self.request_version += 1;
        self.update_version
    }

    /// The current update version.
    #[allow(dead_code)] // tests
    pub(crate) fn update_version(&self) -> u64 {
        self.update_version
    }

    fn backoff(&self, count: u64) -> Duration {
        self.refresh_backoff
            .backoff(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Java `timeToAllowUpdate`: the refresh backoff left, from failed
    /// attempts and from responses that changed nothing.
    fn time_to_allow_update(&mut self, now: Instant) -> Duration {
        let backoff_for_attempts = time_left(
            self.last_refresh,
            self.backoff(self.attempts.saturating_sub(1)),
            now,
        );
        // A periodic refresh is due: no exponential backoff for it.
        if time_left(
            self.last_successful_refresh,
            self.params.metadata_max_age,
            now,
        )
        .is_zero()
        {
            self.equivalent_response_count = 0;
        }
        let equivalent_backoff = if self.equivalent_response_count > 0 {
            self.backoff(self.equivalent_response_count - 1)
        } else {
            Duration::ZERO
        };
        let backoff_for_equivalent = time_left(self.last_refresh, equivalent_backoff, now);
        backoff_for_attempts.max(backoff_for_equivalent)
    }

    fn update_requested(&self) -> bool {
        self.need_full_update || self.need_partial_update
    }

    /// Java `failedUpdate`.
    fn failed_update(&mut self, now: Instant) {
        self.last_refresh = Some(now);
        self.attempts += 1;
        self.equivalent_response_count = 0;
    }

    fn bootstrap(&mut self, addresses: &[(String, u16)]) {
        self.need_full_update = true;
        self.update_version += 1;
        self.snapshot = Snapshot::bootstrap(addresses);
        self.bootstrap_addresses = addresses.to_vec();
    }

    /// Java `maybeThrowExceptionForTopic`: a fatal error, or this topic's
    /// invalid / unauthorized error; either way every recorded error is
    /// cleared.
    fn take_exception_for_topic(&mut self, topic: &str) -> Option<Error> {
        let err = self.fatal.take().or_else(|| {
            if self.unauthorized_topics.contains(topic) {
                Some(topic_authorization_error(topic))
            } else if self.invalid_topics.contains(topic) {
                Some(invalid_topic_error(topic))
            } else {
                None
            }
        });
        self.invalid_topics.clear();
        self.unauthorized_topics.clear();
        err
    }
}

/// Java `TopicAuthorizationException(Set.of(topic))`.
pub(crate) fn topic_authorization_error(topic: &str) -> Error {
    Error::Broker {
        code: ErrorCode::TOPIC_AUTHORIZATION_FAILED,
        message: Some(format!("Not authorized to access topics: [{topic}]")),
    }
}

/// Java `InvalidTopicException(Set.of(topic))`.
pub(crate) fn invalid_topic_error(topic: &str) -> Error {
    Error::Broker {
        code: ErrorCode::INVALID_TOPIC_EXCEPTION,
        message: Some(format!("Invalid topics: [{topic}]")),
    }
}

/// How long until `since + after`, zero if passed or if `since` is `None`
/// (long ago); `Duration::MAX` if the sum does not fit in an `Instant`.
fn time_left(since: Option<Instant>, after: Duration, now: Instant) -> Duration {
    match since {
        None => Duration::ZERO,
        Some(t) => t
            .checked_add(after)
            .map_or(Duration::MAX, |end| end.saturating_duration_since(now)),
    }
}

struct State<P> {
    core: Core,
    policy: P,
}

/// Cluster metadata shared by caller threads and the network thread.
pub(crate) struct Metadata<P> {
    state: Mutex<State<P>>,
    /// Signalled on every update, fatal error and close.
    updated: Condvar,
    /// The published view; replaced whole, never mutated.
    cluster: RwLock<Arc<Cluster>>,
    /// Incremented after every replacement of `cluster`: a caller that
    /// kept a cluster fetched after reading this number still has the
    /// current one while the number is unchanged (one atomic load, no
    /// lock).
    cluster_version: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl<P> std::fmt::Debug for Metadata<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metadata")
            .field("cluster", &*self.cluster.read())
            .finish_non_exhaustive()
    }
}

impl<P: TopicPolicy> Metadata<P> {
    /// Metadata that knows nothing yet; call [`Metadata::bootstrap`] next.
    pub(crate) fn with_policy(params: MetadataParams, policy: P, clock: Arc<dyn Clock>) -> Self {
        Metadata {
            state: Mutex::new(State {
                core: Core::new(params),
                policy,
            }),
            updated: Condvar::new(),
            cluster: RwLock::new(Arc::new(Cluster::default())),
            cluster_version: AtomicU64::new(0),
            clock,
        }
    }

    /// The clock this metadata was built with.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The current cluster, without waiting for an update in progress.
    pub(crate) fn fetch(&self) -> Arc<Cluster> {
        Arc::clone(&self.cluster.read())
    }

    /// Runs `f` on the generic state and the policy under the lock (the
    /// producer's `add` changes both at once).
    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&mut Core, &mut P) -> R) -> R {
        let mut guard = self.state.lock();
        let State { core, policy } = &mut *guard;
        f(core, policy)
    }

    /// The number of times the cluster was replaced; see
    /// [`fetch`](Self::fetch). Read it before fetching.
    pub(crate) fn cluster_version(&self) -> u64 {
        self.cluster_version.load(Ordering::Acquire)
    }

    fn publish(&self, core: &Core) {
        let mut cluster = self.cluster.write();
        *cluster = Arc::clone(core.snapshot.cluster());
        self.cluster_version.fetch_add(1, Ordering::Release);
    }

    /// Starts from the bootstrap servers: nodes -1, -2, ... and a full
    /// update requested (Java `bootstrap`).
    pub(crate) fn bootstrap(&self, addresses: &[(String, u16)]) {
        let mut st = self.state.lock();
        st.core.bootstrap(addresses);
        self.publish(&st.core);
        self.updated.notify_all();
    }

    /// Goes back to the bootstrap servers (KIP-899; Java
    /// `Metadata.rebootstrap` plus the updater's bookkeeping): the next
    /// rebootstrap trigger is counted from `now`.
    pub(crate) fn rebootstrap(&self, now: Instant) {
        let mut st = self.state.lock();
        log::info!("Rebootstrapping with {:?}", st.core.bootstrap_addresses);
        let addresses = std::mem::take(&mut st.core.bootstrap_addresses);
        st.core.bootstrap(&addresses);
        st.core.attempt_start = Some(AttemptStart::At(now));
        self.publish(&st.core);
        self.updated.notify_all();
    }

    /// The network client is about to try to update (Java `maybeUpdate`
    /// when an update is due): starts the rebootstrap clock if it is not
    /// running.
    pub(crate) fn note_update_attempt(&self, now: Instant) {
        let mut st = self.state.lock();
        if st.core.attempt_start.is_none() {
            st.core.attempt_start = Some(AttemptStart::At(now));
        }
    }

    /// Whether the network client should close its connections and call
    /// [`Metadata::rebootstrap`]: the strategy is `rebootstrap` and either
    /// the broker asked for it or no update succeeded for longer than
    /// `metadata.recovery.rebootstrap.trigger.ms`.
    pub(crate) fn needs_rebootstrap(&self, now: Instant) -> bool {
        let st = self.state.lock();
        if !st.core.params.rebootstrap {
            return false;
        }
        match st.core.attempt_start {
            None => false,
            Some(AttemptStart::Forced) => true,
            Some(AttemptStart::At(start)) => {
                now.saturating_duration_since(start) > st.core.params.rebootstrap_trigger
            }
        }
    }

    /// Asks for a full update; returns the version to wait past. Pass
    /// `true` when new metadata is wanted, `false` when retrying after an
    /// error (then responses that change nothing back off).
    pub(crate) fn request_update(&self, reset_equivalent_response_backoff: bool) -> u64 {
        self.state
            .lock()
            .core
            .request_update(reset_equivalent_response_backoff)
    }

    /// Asks for an immediate update for newly wanted topics; returns the
    /// version to wait past.
    #[allow(dead_code)] // tests; the producer asks through request_update_for_topic
    pub(crate) fn request_update_for_new_topics(&self) -> u64 {
        self.state.lock().core.request_update_for_new_topics()
    }

    /// Whether an update was asked for.
    #[allow(dead_code)] // tests
    pub(crate) fn update_requested(&self) -> bool {
        self.state.lock().core.update_requested()
    }

    /// The refresh backoff left (Java `timeToAllowUpdate`).
    #[allow(dead_code)] // tests
    pub(crate) fn time_to_allow_update(&self, now: Instant) -> Duration {
        self.state.lock().core.time_to_allow_update(now)
    }

    /// How long until the next update: zero when one was requested (once
    /// the backoff allows), else when the metadata reaches
    /// `metadata.max.age.ms` (Java `timeToNextUpdate`).
    pub(crate) fn time_to_next_update(&self, now: Instant) -> Duration {
        let mut st = self.state.lock();
        let core = &mut st.core;
        let time_to_expire = if core.update_requested() {
            Duration::ZERO
        } else {
            time_left(
                core.last_successful_refresh,
                core.params.metadata_max_age,
                now,
            )
        };
        time_to_expire.max(core.time_to_allow_update(now))
    }

    /// The request to send now: the new topics only when no full update is
    /// wanted and the metadata is younger than `metadata.max.age.ms` and
    /// the policy supports it, else a full one.
    pub(crate) fn new_metadata_request(&self, now: Instant) -> MetadataRequestAndVersion {
        let st = self.state.lock();
        let core = &st.core;
        let fresh = core
            .last_successful_refresh
            .and_then(|t| t.checked_add(core.params.metadata_max_age))
            .is_some_and(|expiry| expiry > now);
        let partial = if !core.need_full_update && fresh {
            st.policy.partial_request()
        } else {
            None
        };
        let (request, is_partial_update) = match partial {
            Some(r) => (r, true),
            None => (st.policy.full_request(), false),
        };
        MetadataRequestAndVersion {
            request,
            request_version: core.request_version,
            is_partial_update,
        }
    }

    /// Handles a metadata response (Java `handleSuccessfulResponse` and
    /// `Metadata.update`): a `REBOOTSTRAP_REQUIRED` answer under the
    /// rebootstrap strategy asks for a rebootstrap; an answer without
    /// brokers counts as a failed update; anything else becomes the new
    /// snapshot, bumps the version and wakes the waiters.
    pub(crate) fn update(
        &self,
        request_version: u64,
        response: &MetadataResponse,
        is_partial_update: bool,
        now: Instant,
    ) -> UpdateOutcome {
        let mut guard = self.state.lock();
        let State { core, policy } = &mut *guard;
        if core.closed {
            log::debug!("Ignoring a metadata response after close");
            return UpdateOutcome::Closed;
        }
        if core.params.rebootstrap && response.error_code == ErrorCode::REBOOTSTRAP_REQUIRED {
            log::info!("Rebootstrap requested by server.");
            core.attempt_start = Some(AttemptStart::Forced);
            return UpdateOutcome::RebootstrapRequested;
        }
        if response.brokers.is_empty() {
            log::trace!("Ignoring empty metadata response.");
            core.failed_update(now);
            return UpdateOutcome::IgnoredEmpty;
        }
        core.apply_response(policy, request_version, response, is_partial_update, now);
        core.attempt_start = None;
        policy.on_update(response);
        self.publish(core);
        drop(guard);
        self.updated.notify_all();
        UpdateOutcome::Updated
    }

    /// Records a failed attempt (no answer, a disconnect): the next one
    /// waits for the refresh backoff, which grows with each failure.
    pub(crate) fn failed_update(&self, now: Instant) {
        self.state.lock().core.failed_update(now);
    }

    /// Records an error that stops metadata for everyone (authentication,
    /// unsupported version); the next waiter gets it.
    pub(crate) fn fatal_error(&self, error: Error) {
        self.state.lock().core.fatal = Some(error);
        self.updated.notify_all();
    }

    /// Blocks until the update version exceeds `last_version`, the metadata
    /// closes, a fatal error arrives, or `deadline` (on this metadata's
    /// clock; `None` waits for ever) passes.
    ///
    /// The condition variable waits in real time for the time left on the
    /// clock, and a wait that runs out counts as the deadline, so a mock
    /// clock that does not move still times out.
    pub(crate) fn await_update(
        &self,
        last_version: u64,
        deadline: Option<Instant>,
    ) -> Result<(), Error> {
        let mut st = self.state.lock();
        let mut timed_out = false;
        loop {
            if let Some(fatal) = st.core.fatal.take() {
                return Err(fatal);
            }
            if st.core.update_version > last_version || st.core.closed {
                break;
            }
            let remaining = deadline.map(|d| d.saturating_duration_since(self.clock.now()));
            if timed_out || remaining.is_some_and(|r| r.is_zero()) {
                return Err(Error::Timeout(
                    "Condition not satisfied before deadline".to_owned(),
                ));
            }
            timed_out = match remaining {
                Some(r) => self.updated.wait_for(&mut st, r).timed_out(),
                None => {
                    self.updated.wait(&mut st);
                    false
                }
            };
        }
        if st.core.closed {
            return Err(closed_error());
        }
        Ok(())
    }

    /// The error recorded for `topic` by the last update (unauthorized,
    /// invalid) or a fatal one, if any; clears every recorded error, as Java
    /// `maybeThrowExceptionForTopic` does.
    pub(crate) fn maybe_throw_exception_for_topic(&self, topic: &str) -> Result<(), Error> {
        match self.state.lock().core.take_exception_for_topic(topic) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The number of successful updates (and bootstraps) so far.
    #[allow(dead_code)] // tests
    pub(crate) fn update_version(&self) -> u64 {
        self.state.lock().core.update_version
    }

    /// When the last full update succeeded.
    #[allow(dead_code)] // tests
    pub(crate) fn last_successful_update(&self) -> Option<Instant> {
        self.state.lock().core.last_successful_refresh
    }

    /// Stops the metadata: every waiter wakes with "Requested metadata
    /// update after close", and responses are ignored from now on.
    pub(crate) fn close(&self) {
        self.state.lock().core.closed = true;
        self.updated.notify_all();
    }

    /// Whether [`Metadata::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().core.closed
    }
}

/// Java `KafkaException("Requested metadata update after close")`.
pub(crate) fn closed_error() -> Error {
    Error::Closed("Requested metadata update after close".to_owned())
}
