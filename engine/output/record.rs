//! The record of one ended flow: what the flow log and the summary need,
//! detached from the worker's table.

use crate::capture::Timestamp;
use crate::classify::reassembly::Lost;
use crate::classify::{AppProto, Names};
use crate::flow::key::Endpoint;
use crate::flow::{EndReason, Flow, FlowState, TO_CLIENT, TO_SERVER};
use crate::rules::eval::{Hit, Verdict};

/// Something a worker reports.
#[derive(Debug)]
pub enum Event {
    /// Boxed: events are moved several times on their way to the writer
    /// (a worker's batch, the merger's queues, back to the follower).
    Flow(Box<FlowRecord>),
    /// A rule matched a flow (actions `alert` and `drop`).
    Alert(Box<AlertRecord>),
}

/// One flow record, oriented client → server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    pub flow_id: u64,
    pub file: u32,
    pub client: Endpoint,
    pub server: Endpoint,
    pub proto: u8,
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub state: FlowState,
    pub reason: EndReason,
    pub app_proto: AppProto,
    /// Names and evidence, when the payload gave any.
    pub names: Option<Box<Names>>,
    pub first_packet: u64,
    pub part: u32,
    pub tunnels: u8,
    /// The kinds of tunnel opened ([`crate::decode::udp_tunnel::Kind::bit`]).
    pub tunnel_kinds: u16,
    pub truncated_pkts: u32,
    /// Out-of-order TCP segments and bytes reassembly could not buffer.
    pub lost: Lost,
    /// The rules the flow matched, first the one that decides its verdict.
    pub verdict: Option<Box<Verdict>>,
}

impl FlowRecord {
    /// The record of `flow`, with the names its classifier found and the
    /// rules it matched (moved out of the flow when it ends, cloned when it
    /// goes on).
    pub fn new<T>(
        flow: &Flow<T>,
        reason: EndReason,
        app_proto: AppProto,
        names: Option<Box<Names>>,
        lost: Lost,
        verdict: Option<Box<Verdict>>,
    ) -> Self {
        FlowRecord {
            flow_id: flow.id,
            file: flow.file,
            client: flow.client(),
            server: flow.server(),
            proto: flow.key.proto,
            pkts_toserver: flow.pkts[TO_SERVER],
            pkts_toclient: flow.pkts[TO_CLIENT],
            bytes_toserver: flow.bytes[TO_SERVER],
            bytes_toclient: flow.bytes[TO_CLIENT],
            start: flow.first_ts,
            end: flow.last_ts,
            state: flow.state,
            reason,
            app_proto,
            names,
            first_packet: flow.first_packet,
            part: flow.part,
            tunnels: flow.tunnels,
            tunnel_kinds: flow.tunnel_kinds,
            truncated_pkts: flow.truncated_pkts,
            lost,
            verdict,
        }
    }
}

/// One rule matching a flow: the flow as it stood then and the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertRecord {
    /// Time of the packet that completed the match.
    pub ts: Timestamp,
    /// Input position of that packet.
    pub packet: u64,
    pub flow_id: u64,
    pub file: u32,
    pub client: Endpoint,
    pub server: Endpoint,
    pub proto: u8,
    pub app_proto: AppProto,
    pub names: Option<Box<Names>>,
    pub hit: Hit,
}

impl AlertRecord {
    pub fn new<T>(
        flow: &Flow<T>,
        app_proto: AppProto,
        names: Option<Box<Names>>,
        ts: Timestamp,
        packet: u64,
        hit: Hit,
    ) -> Self {
        AlertRecord {
            ts,
            packet,
            flow_id: flow.id,
            file: flow.file,
            client: flow.client(),
            server: flow.server(),
            proto: flow.key.proto,
            app_proto,
            names,
            hit,
        }
    }
}

#[cfg(test)]
impl FlowRecord {
    /// A one-packet TCP flow's record told apart by its id (tests).
    pub(crate) fn sample(id: u64) -> Self {
        let ep = |port| Endpoint {
            addr: "192.0.2.1".parse().expect("an address"),
            port,
        };
        FlowRecord {
            flow_id: id,
            file: 0,
            client: ep(1000),
            server: ep(80),
            proto: 6,
            pkts_toserver: 1,
            pkts_toclient: 0,
            bytes_toserver: 60,
            bytes_toclient: 0,
            start: 0,
            end: 0,
            state: FlowState::New,
            reason: EndReason::Timeout,
            app_proto: AppProto::Unknown,
            names: None,
            first_packet: id,
            part: 0,
            tunnels: 0,
            tunnel_kinds: 0,
            truncated_pkts: 0,
            lost: Default::default(),
            verdict: None,
        }
    }
}
