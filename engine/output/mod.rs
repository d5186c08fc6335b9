//! Output: what sift writes about the traffic.
//!
//! Workers turn ended flows into [`record::FlowRecord`]s; the pipeline puts
//! them in input order; then [`eve`] writes them as Suricata EVE JSON lines
//! and [`summary`] folds them into the report a person reads.

pub mod eve;
pub mod record;
pub mod summary;
pub mod time;
