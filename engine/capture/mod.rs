//! Capture input: where packets come from.
//!
//! A capture source yields [`RawPacket`]s — a timestamp, a link type and the
//! captured bytes — without looking inside them. Files are memory-mapped and
//! read in place ([`mod@file`]); the two on-disk formats each have a reader
//! ([`pcap`], [`pcapng`]). Nothing here allocates per packet.
//!
//! A damaged file never panics a reader: a record that cannot be read ends
//! the file with a [`CaptureError`] naming the byte offset, and every packet
//! before it has already been delivered.

pub mod file;
pub mod live;
pub mod pcap;
pub mod pcapng;
pub mod privileges;

use std::fmt;

/// A link-layer header type, as numbered by tcpdump.org's LINKTYPE_ registry.
///
/// Kept open (a newtype, not an enum) so unknown values survive to be counted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    /// DLT_RAW as numbered on most BSDs (14) and OpenBSD (12).
    pub const RAW_BSD: LinkType = LinkType(14);
    pub const RAW_OPENBSD: LinkType = LinkType(12);
    pub const PPP_HDLC: LinkType = LinkType(50);
    pub const PPP_ETHER: LinkType = LinkType(51);
    pub const RAW: LinkType = LinkType(101);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const PPI: LinkType = LinkType(192);
    pub const ERF: LinkType = LinkType(197);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The registry name, for reports; `None` for types sift does not decode.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::NULL => "NULL",
            Self::ETHERNET => "ETHERNET",
            Self::PPP => "PPP",
            Self::RAW_BSD | Self::RAW_OPENBSD | Self::RAW => "RAW",
            Self::PPP_HDLC => "PPP_HDLC",
            Self::PPP_ETHER => "PPP_ETHER",
            Self::C_HDLC => "C_HDLC",
            Self::LOOP => "LOOP",
            Self::LINUX_SLL => "LINUX_SLL",
            Self::PPI => "PPI",
            Self::ERF => "ERF",
            Self::IPV4 => "IPV4",
            Self::IPV6 => "IPV6",
            Self::LINUX_SLL2 => "LINUX_SLL2",
            _ => return None,
        })
    }
}

impl fmt::Debug for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}({})", self.0),
            None => write!(f, "LinkType({})", self.0),
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Nanoseconds since the Unix epoch, from the capture's own clock.
pub type Timestamp = u64;

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// One captured frame, borrowed from the capture's buffer.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    pub ts: Timestamp,
    pub link: LinkType,
    /// The captured bytes (possibly fewer than `wire_len` under a snaplen).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub wire_len: u32,
}

impl RawPacket<'_> {
    /// True when the capture kept fewer bytes than the frame had.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.wire_len)
    }
}

/// Why a capture file stopped yielding packets early, or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng capture (first bytes {0:02x?})")]
    NotACapture(Vec<u8>),
    #[error("file too short for a capture header ({0} bytes)")]
    TooShort(usize),
    #[error("truncated capture: {what} at byte {offset} needs {needed} bytes, {available} remain")]
    Truncated {
        what: &'static str,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("corrupt capture: {what} at byte {offset}")]
    Corrupt { what: String, offset: u64 },
}
