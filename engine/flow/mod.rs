//! Flows: bidirectional conversations keyed by 5-tuple, with per-direction
//! counters, client/server orientation, TCP end detection and timeouts on
//! packet time.
//!
//! - [`key`]: the canonical key and the symmetric hashes.
//! - [`table`]: one worker's bounded table, its timeout lists and eviction.
//!
//! **Orientation** (who is the client) is decided on a flow's first packet:
//! a TCP SYN without ACK is sent by the client; a SYN+ACK by the server; for
//! anything else, if exactly one port is below 1024 that side is the server
//! (a capture that starts mid-conversation with a reply); otherwise the
//! sender of the first packet is the client.

pub mod budget;
pub mod key;
pub mod table;

use crate::capture::{Timestamp, NANOS_PER_SEC};
use crate::decode::transport::{tcp_flags, Header};
use crate::decode::Decoded;
use key::{Direction, Endpoint, FlowKey};

/// Timeouts and capacity of the flow tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowConfig {
    /// Flows seen in one direction only (or TCP before the handshake ends).
    pub new_timeout: Timestamp,
    pub tcp_established_timeout: Timestamp,
    /// UDP and every other protocol, once both sides have spoken.
    pub other_established_timeout: Timestamp,
    /// TCP after RST, or FIN from both sides: a short grace for the last ACKs.
    pub closed_timeout: Timestamp,
    /// A flow longer than this is reported and restarted (`active_timeout`).
    pub active_timeout: Timestamp,
    /// Flows held at once, over all workers. Past it, the least recently
    /// active flow is evicted (reason `forced`).
    pub capacity: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            new_timeout: 30 * NANOS_PER_SEC,
            tcp_established_timeout: 300 * NANOS_PER_SEC,
            other_established_timeout: 120 * NANOS_PER_SEC,
            closed_timeout: 10 * NANOS_PER_SEC,
            active_timeout: 1800 * NANOS_PER_SEC,
            capacity: 1 << 20,
        }
    }
}

/// The EVE `flow.state` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowState {
    /// Packets from one side only (TCP: handshake not complete).
    New,
    Established,
    /// TCP reset, or FIN seen from both sides.
    Closed,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        }
    }
}

/// Why a flow record was written (EVE `flow.reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EndReason {
    /// Idle longer than the timeout of its state.
    Timeout,
    /// Longer than the active timeout; the flow goes on in a new record.
    ActiveTimeout,
    /// A closed TCP flow's tuple was reused by a new SYN.
    TcpReuse,
    /// Evicted to stay within the flow table's capacity.
    Forced,
    /// End of input (end of each file when files are read one by one).
    Shutdown,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::ActiveTimeout => "active_timeout",
            EndReason::TcpReuse => "tcp_reuse",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// Index into per-direction arrays: 0 to the server, 1 to the client.
pub const TO_SERVER: usize = 0;
pub const TO_CLIENT: usize = 1;

/// One bidirectional flow: its key, orientation, counters and state, and
/// `T`, what the layers above flow tracking keep per flow (the worker's
/// classification and rule verdict); flow tracking never looks into it.
///
/// Laid out for the per-packet path: what every packet updates comes
/// first, in the flow's first cache line, then `T` (whose own per-packet
/// fields lead), then what only a flow's start and end read.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Flow<T = ()> {
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// The worker's packet clock (highest timestamp so far) at the flow's
    /// last packet. Timeouts run on it rather than on `last_ts`, so that
    /// timestamps going backwards in a capture cannot reorder expiry.
    pub active_at: Timestamp,
    /// Packets whose captured bytes were fewer than their wire length.
    pub truncated_pkts: u32,
    pub state: FlowState,
    /// TCP flags seen, per direction (OR of all).
    pub tcp_flags: [u8; 2],
    /// True when the key's `lo` endpoint is the client.
    pub client_is_lo: bool,
    /// What the layers above keep per flow.
    pub ext: T,
    pub key: FlowKey,
    pub id: u64,
    /// Index (in the input) of the packet that opened the flow.
    pub first_packet: u64,
    /// Which input file the flow's first packet came from.
    pub file: u32,
    /// 0 for a flow's first record, then +1 after each active timeout.
    pub part: u32,
    /// Tunnel layers opened to reach the flow's packets.
    pub tunnels: u8,
    /// Their kinds ([`crate::decode::udp_tunnel::Kind::bit`]).
    pub tunnel_kinds: u16,
}

impl<T: Default> Flow<T> {
    /// A flow opened by `pkt` at input position `index`.
    pub fn new(
        key: FlowKey,
        dir: Direction,
        pkt: &Decoded<'_>,
        ts: Timestamp,
        index: u64,
        file: u32,
    ) -> Self {
        let src_is_lo = dir == Direction::LoToHi;
        let sender_is_client = match pkt.transport.header {
            Header::Tcp(h) if h.has(tcp_flags::SYN) => !h.has(tcp_flags::ACK),
            _ => {
                let (sp, dp) = (pkt.transport.src_port, pkt.transport.dst_port);
                !(sp < 1024 && dp >= 1024)
            }
        };
        Flow {
            key,
            client_is_lo: src_is_lo == sender_is_client,
            id: key::flow_id(key.stable_hash(), index),
            first_packet: index,
            file,
            part: 0,
            first_ts: ts,
            last_ts: ts,
            active_at: ts,
            pkts: [0; 2],
            bytes: [0; 2],
            state: FlowState::New,
            tcp_flags: [0; 2],
            tunnels: pkt.tunnels,
            tunnel_kinds: pkt.tunnel_kinds,
            truncated_pkts: 0,
            ext: T::default(),
        }
    }
}

impl<T> Flow<T> {
    /// The per-direction index (`TO_SERVER`/`TO_CLIENT`) of a packet going `dir`.
    #[inline]
    pub fn side(&self, dir: Direction) -> usize {
        if (dir == Direction::LoToHi) == self.client_is_lo {
            TO_SERVER
        } else {
            TO_CLIENT
        }
    }

    pub fn client(&self) -> Endpoint {
        if self.client_is_lo {
            self.key.lo
        } else {
            self.key.hi
        }
    }

    pub fn server(&self) -> Endpoint {
        if self.client_is_lo {
            self.key.hi
        } else {
            self.key.lo
        }
    }

    /// Counts a packet of `wire_len` bytes going to `side`, and follows TCP state.
    #[inline]
    pub fn account(&mut self, side: usize, pkt: &Decoded<'_>, ts: Timestamp, wire_len: u64) {
        self.pkts[side] += 1;
        self.bytes[side] += wire_len;
        if ts > self.last_ts {
            self.last_ts = ts;
        }
        if pkt.truncated {
            self.truncated_pkts += 1;
        }
        match pkt.transport.header {
            Header::Tcp(h) => {
                self.tcp_flags[side] |= h.flags;
                let fin_both =
                    self.tcp_flags[TO_SERVER] & self.tcp_flags[TO_CLIENT] & tcp_flags::FIN;
                if h.has(tcp_flags::RST) || fin_both != 0 {
                    self.state = FlowState::Closed;
                } else if self.state == FlowState::New
                    && self.pkts[TO_SERVER] > 0
                    && self.pkts[TO_CLIENT] > 0
                {
                    self.state = FlowState::Established;
                }
            }
            _ => {
                if self.state == FlowState::New
                    && self.pkts[TO_SERVER] > 0
                    && self.pkts[TO_CLIENT] > 0
                {
                    self.state = FlowState::Established;
                }
            }
        }
    }

    /// The idle timeout that applies in the flow's present state.
    pub fn idle_timeout(&self, cfg: &FlowConfig) -> Timestamp {
        match (self.state, self.key.proto) {
            (FlowState::New, _) => cfg.new_timeout,
            (FlowState::Closed, _) => cfg.closed_timeout,
            (FlowState::Established, crate::decode::ip::proto::TCP) => cfg.tcp_established_timeout,
            (FlowState::Established, _) => cfg.other_established_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every packet updates shares the flow's first cache line, and
    /// the layers' state starts the second.
    #[test]
    fn per_packet_fields_share_the_first_cache_line() {
        use std::mem::{align_of, offset_of, size_of};
        type F = Flow<[u64; 4]>;
        assert_eq!(align_of::<F>(), 64);
        for end in [
            offset_of!(F, pkts) + size_of::<[u64; 2]>(),
            offset_of!(F, bytes) + size_of::<[u64; 2]>(),
            offset_of!(F, first_ts) + 8,
            offset_of!(F, last_ts) + 8,
            offset_of!(F, active_at) + 8,
            offset_of!(F, truncated_pkts) + 4,
            offset_of!(F, state) + 1,
            offset_of!(F, tcp_flags) + 2,
            offset_of!(F, client_is_lo) + 1,
        ] {
            assert!(end <= 64, "{end}");
        }
        assert_eq!(offset_of!(F, ext), 64);
    }
    use crate::decode::transport::{TcpHeader, Transport};

    fn pkt(sport: u16, dport: u16, header: Header) -> Decoded<'static> {
        Decoded {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            proto: 6,
            transport: Transport {
                src_port: sport,
                dst_port: dport,
                header,
                payload: &[],
                malformed: false,
            },
            tunnels: 0,
            tunnel_kinds: 0,
            truncated: false,
            ip: Default::default(),
        }
    }

    fn open(p: &Decoded<'_>) -> Flow {
        let (k, d) = FlowKey::new(
            p.proto,
            Endpoint {
                addr: p.src,
                port: p.transport.src_port,
            },
            Endpoint {
                addr: p.dst,
                port: p.transport.dst_port,
            },
        );
        Flow::<()>::new(k, d, p, 0, 0, 0)
    }

    fn tcp(flags: u8) -> Header {
        Header::Tcp(TcpHeader {
            seq: 0,
            ack: 0,
            flags,
            window: 0,
        })
    }

    #[test]
    fn orientation_rules() {
        // SYN: sender is client, even from a low port.
        assert_eq!(open(&pkt(80, 40000, tcp(tcp_flags::SYN))).client().port, 80);
        // SYN+ACK: sender is server.
        assert_eq!(
            open(&pkt(443, 40000, tcp(tcp_flags::SYN | tcp_flags::ACK)))
                .client()
                .port,
            40000
        );
        // Mid-stream reply from a well-known port: the other side is client.
        assert_eq!(
            open(&pkt(443, 40000, tcp(tcp_flags::ACK))).client().port,
            40000
        );
        // Otherwise the first sender.
        assert_eq!(open(&pkt(5000, 6000, Header::Udp)).client().port, 5000);
        assert_eq!(open(&pkt(53, 53, Header::Udp)).client().port, 53);
    }

    #[test]
    fn tcp_states() {
        let syn = pkt(40000, 80, tcp(tcp_flags::SYN));
        let mut f = open(&syn);
        f.account(TO_SERVER, &syn, 0, 60);
        assert_eq!(f.state, FlowState::New);
        f.account(
            TO_CLIENT,
            &pkt(80, 40000, tcp(tcp_flags::SYN | tcp_flags::ACK)),
            1,
            60,
        );
        assert_eq!(f.state, FlowState::Established);
        f.account(
            TO_SERVER,
            &pkt(40000, 80, tcp(tcp_flags::FIN | tcp_flags::ACK)),
            2,
            54,
        );
        assert_eq!(f.state, FlowState::Established);
        f.account(
            TO_CLIENT,
            &pkt(80, 40000, tcp(tcp_flags::FIN | tcp_flags::ACK)),
            3,
            54,
        );
        assert_eq!(f.state, FlowState::Closed);
        assert_eq!((f.pkts, f.bytes, f.last_ts), ([2, 2], [114, 114], 3));
    }
}
