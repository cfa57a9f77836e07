//! Training: batching, metrics, the learning-rate schedule and the loop shared by every method.

pub mod adapters;
pub mod batch;
pub mod metrics;
pub mod schedule;
pub mod job;
pub mod merge;
pub mod run;
pub mod trainer;
pub mod session;
