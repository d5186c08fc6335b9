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

use super::{dns_fields, http, line, quic, tls, EveFormat, EveTime, JsonOut};
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

/// Suricata's `dns` object of a transaction: the flow record's fields,
/// the version, the transaction id and the opcode.
fn tx_dns(o: &mut JsonOut, q: &DnsQuestion, tx_id: usize) {
    o.key("dns").begin_object();
    o.key("version").uint(2);
    dns_fields(o, q);
    o.key("tx_id").uint(tx_id as u64);
    o.key("opcode").uint(q.opcode.into());
    o.end_object();
}

impl EveFormat {
    /// The flow's transaction events, per `self.events`.
    pub(super) fn transactions(&self, r: &FlowRecord, out: &mut Vec<u8>) {
        let Some(n) = r.names.as_deref() else {
            return;
        };
        let head = |o: &mut JsonOut, event_type, ts, side| {
            let (src, dst) = if side == TO_CLIENT {
                (r.server, r.client)
            } else {
                (r.client, r.server)
            };
            self.head(
                o,
                event_type,
                &EveTime::new(ts),
                r.flow_id,
                r.file,
                src,
                dst,
                r.proto,
                r.app_proto,
            );
        };
        if self.events.has(EventTypes::DNS) {
            if !n.transactions_read {
                if let Some(q) = n.dns.as_ref() {
                    let side = if q.response { TO_CLIENT } else { 0 };
                    line(out, |o| {
                        head(o, "dns", r.start, side);
                        tx_dns(o, q, 0);
                    });
                }
            }
            for (i, tx) in n.dns_transactions.iter().enumerate() {
                line(out, |o| {
                    head(o, "dns", tx.ts, tx.side);
                    tx_dns(o, &tx.question, i);
                });
            }
        }
        if self.events.has(EventTypes::HTTP) {
            if !n.transactions_read {
                if let Some(h) = n.http.as_ref() {
                    line(out, |o| {
                        head(o, "http", r.start, 0);
                        o.key("tx_id").uint(0);
                        o.key("http");
                        http(o, h);
                    });
                }
            }
            for (i, tx) in n.http_transactions.iter().enumerate() {
                line(out, |o| {
                    head(o, "http", tx.ts, 0);
                    o.key("tx_id").uint(i as u64);
                    o.key("http");
                    http(o, &tx.request);
                });
            }
        }
        if self.events.has(EventTypes::TLS) && (n.tls.is_some() || n.tls_server.is_some()) {
            line(out, |o| {
                head(o, "tls", r.start, 0);
                o.key("tls");
                tls(o, n.tls.as_deref(), n.tls_server.as_ref());
            });
        }
        if self.events.has(EventTypes::QUIC) {
            if let Some(q) = n.quic.as_ref() {
                line(out, |o| {
                    head(o, "quic", r.start, 0);
                    o.key("quic");
                    quic(o, q);
                });
            }
        }
    }
}
