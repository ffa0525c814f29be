//! The chaos test's machinery (`tests/chaos.rs` documents what it checks):
//! a seeded PRNG, the plan a seed draws, the thread that injects its
//! faults, the run of one seed, and the checks.

pub mod chaos_thread;
pub mod check;
pub mod logger;
pub mod plan;
pub mod records;
pub mod rng;
pub mod run;
