//! Output: what sift writes about the traffic.
//!
//! Workers turn ended flows into [`record::FlowRecord`]s and rule hits into
//! [`record::AlertRecord`]s; the pipeline puts them in input order; then a
//! [`recorder::Recorder`] has [`eve`] write them as Suricata EVE JSON lines
//! and [`summary`] fold them into the report a person reads.
//! [`rules_report`] is what `sift rules check` and `rules test` print.

pub mod eve;
pub mod findings;
pub mod html;
pub mod ipfix;
pub mod json;
pub mod metrics;
pub mod record;
pub mod recorder;
pub mod redis;
pub mod registry_report;
pub mod report;
pub mod rules_report;
pub mod sink;
pub mod summary;
pub mod time;
