//! sift: a traffic-classification DPI engine.
//!
//! Data flows through the modules in this order:
//! [`capture`] (pcap/pcapng files) → [`decode`] (link, IP, fragments,
//! tunnels, transport) → [`flow`] (bidirectional flows, timeouts) →
//! [`output`] (EVE JSON records, summary), wired by [`pipeline`] across
//! worker threads. [`cli`] is the command line over all of it; [`bytes`]
//! (reading untrusted bytes), [`hex`] (writing hex digits) and
//! [`prefetch`] (memory hints) serve them all.

pub mod bytes;
pub mod capture;
pub mod classify;
pub mod cli;
pub mod decode;
pub mod flow;
pub mod hex;
pub mod output;
pub mod pipeline;
pub mod prefetch;
pub mod rules;
