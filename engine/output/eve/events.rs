//! Per-transaction events (`--events`): Suricata's `dns`, `http`, `tls`
//! and `quic` event types, each carrying the flow's `flow_id` and the same
//! protocol object as the flow record.
//!
//! A DNS flow writes one `dns` event per message it kept (every message of
//! a UDP flow when transactions are read, [`crate::classify::transactions`];
//! else the first), timestamped with the message's packet and oriented as
//! it was sent; an HTTP flow one `http` event per request it kept (every
//! keep-alive request then), timestamped with the packet that completed
//! its head. TLS and QUIC write one event for what the flow record holds
//! (the hellos), timestamped with the flow's start. The events of a flow are written together, just before its
//! `flow` event, so their order does not depend on the thread count.

use std::io;

use serde::Serialize;

use super::{line, EveDns, EveFormat, EveHttp, EveQuic, EveTls, Head};
use crate::classify::dns::DnsQuestion;
use crate::flow::TO_CLIENT;
use crate::output::record::FlowRecord;

/// Which event types are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventTypes(u8);

impl EventTypes {
    pub const FLOW: u8 = 1;
    pub const ALERT: u8 = 2;
    pub const DNS: u8 = 4;
    pub const HTTP: u8 = 8;
    pub const TLS: u8 = 16;
    pub const QUIC: u8 = 32;
    const NAMES: [(&'static str, u8); 6] = [
        ("flow", Self::FLOW),
        ("alert", Self::ALERT),
        ("dns", Self::DNS),
        ("http", Self::HTTP),
        ("tls", Self::TLS),
        ("quic", Self::QUIC),
    ];

    /// A comma-separated list of `flow`, `alert`, `dns`, `http`, `tls`,
    /// `quic`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut bits = 0;
        for w in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let Some((_, bit)) = Self::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(w)) else {
                return Err(format!(
                    "unknown event type `{w}` (flow, alert, dns, http, tls, quic)"
                ));
            };
            bits |= bit;
        }
        Ok(EventTypes(bits))
    }

    #[inline]
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Any per-transaction type.
    pub fn transactions(self) -> bool {
        self.0 & (Self::DNS | Self::HTTP | Self::TLS | Self::QUIC) != 0
    }
}

impl Default for EventTypes {
    fn default() -> Self {
        EventTypes(Self::FLOW | Self::ALERT)
    }
}

#[derive(Serialize)]
struct DnsEvent<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    dns: TxDns<'a>,
}

/// Suricata's `dns` object of a transaction: the flow record's fields,
/// the version, the transaction id and the opcode.
#[derive(Serialize)]
struct TxDns<'a> {
    version: u8,
    #[serde(flatten)]
    dns: EveDns<'a>,
    tx_id: usize,
    opcode: u8,
}

#[derive(Serialize)]
struct HttpEvent<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    tx_id: usize,
    http: EveHttp<'a>,
}

#[derive(Serialize)]
struct TlsEvent<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    tls: EveTls<'a>,
}

#[derive(Serialize)]
struct QuicEvent<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    quic: EveQuic<'a>,
}

fn tx_dns(q: &DnsQuestion, tx_id: usize) -> TxDns<'_> {
    TxDns {
        version: 2,
        dns: EveDns::of(q),
        tx_id,
        opcode: q.opcode,
    }
}

impl EveFormat {
    /// The flow's transaction events, per `self.events`.
    pub(super) fn transactions(&self, r: &FlowRecord, out: &mut Vec<u8>) -> io::Result<()> {
        let Some(n) = r.names.as_deref() else {
            return Ok(());
        };
        let head = |event_type, ts, side| {
            let (src, dst) = if side == TO_CLIENT {
                (r.server, r.client)
            } else {
                (r.client, r.server)
            };
            self.head(
                event_type,
                ts,
                r.flow_id,
                r.file,
                src,
                dst,
                r.proto,
                r.app_proto,
            )
        };
        if self.events.has(EventTypes::DNS) {
            if !n.transactions_read {
                if let Some(q) = n.dns.as_ref() {
                    let side = if q.response { TO_CLIENT } else { 0 };
                    line(
                        out,
                        &DnsEvent {
                            head: head("dns", r.start, side),
                            dns: tx_dns(q, 0),
                        },
                    )?;
                }
            }
            for (i, tx) in n.dns_transactions.iter().enumerate() {
                line(
                    out,
                    &DnsEvent {
                        head: head("dns", tx.ts, tx.side),
                        dns: tx_dns(&tx.question, i),
                    },
                )?;
            }
        }
        if self.events.has(EventTypes::HTTP) {
            if !n.transactions_read {
                if let Some(h) = n.http.as_ref() {
                    line(
                        out,
                        &HttpEvent {
                            head: head("http", r.start, 0),
                            tx_id: 0,
                            http: EveHttp::of(h),
                        },
                    )?;
                }
            }
            for (i, tx) in n.http_transactions.iter().enumerate() {
                line(
                    out,
                    &HttpEvent {
                        head: head("http", tx.ts, 0),
                        tx_id: i,
                        http: EveHttp::of(&tx.request),
                    },
                )?;
            }
        }
        if self.events.has(EventTypes::TLS) {
            if let Some(tls) = EveTls::new(n.tls.as_ref(), n.tls_server.as_ref()) {
                line(
                    out,
                    &TlsEvent {
                        head: head("tls", r.start, 0),
                        tls,
                    },
                )?;
            }
        }
        if self.events.has(EventTypes::QUIC) {
            if let Some(q) = n.quic.as_ref() {
                line(
                    out,
                    &QuicEvent {
                        head: head("quic", r.start, 0),
                        quic: EveQuic::new(q),
                    },
                )?;
            }
        }
        Ok(())
    }
}
