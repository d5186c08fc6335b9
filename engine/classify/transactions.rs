//! Every transaction of a flow, not only the first: the DNS messages that
//! follow a UDP flow's first one (a resolver's many queries on one tuple, a
//! DNS tunnel), read after the flow is decided.
//!
//! Read only when asked for (per-transaction events, or rules, which check
//! each new message's name): the flow's classification state is freed as
//! before, and each later datagram of a DNS-family flow costs one parse.
//! A flow keeps at most [`MAX_TRANSACTIONS`] messages for its events; past
//! that they are counted ([`Names::dns_transactions_dropped`]), and rules
//! still see each one's name ([`Names::dns_latest`]).

use super::dns::{self, Dialect, DnsQuestion};
use super::{nbns, AppProto, Names};
use crate::capture::Timestamp;

/// DNS messages a flow keeps for its events.
pub const MAX_TRANSACTIONS: usize = 64;

/// One DNS message of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsTransaction {
    pub ts: Timestamp,
    /// `TO_SERVER` (sent by the client) or `TO_CLIENT`.
    pub side: usize,
    /// Input position of its packet.
    pub packet: u64,
    pub question: DnsQuestion,
}

/// Is `proto` one whose later datagrams are read as transactions?
pub fn follows(proto: AppProto) -> bool {
    matches!(
        proto,
        AppProto::Dns | AppProto::Mdns | AppProto::Llmnr | AppProto::Nbns
    )
}

/// The message of a datagram of a flow decided as `proto`.
pub fn read(proto: AppProto, payload: &[u8]) -> Option<DnsQuestion> {
    let (q, dialect) = match proto {
        AppProto::Nbns => return nbns::parse(payload),
        AppProto::Dns => (dns::parse(payload)?, Dialect::Dns),
        AppProto::Mdns => (
            dns::parse(payload).or_else(|| dns::parse_announcement(payload))?,
            Dialect::Mdns,
        ),
        AppProto::Llmnr => (dns::parse(payload)?, Dialect::Llmnr),
        _ => return None,
    };
    Some(DnsQuestion { dialect, ..q })
}

/// Keeps a message: in the list while there is room (else counted), and
/// as the latest for the rules when it is not the flow's first.
pub fn record(names: &mut Names, tx: DnsTransaction, first: bool) {
    if !first {
        names.dns_latest = Some(tx.question.clone());
    }
    if names.dns_transactions.len() < MAX_TRANSACTIONS {
        names.dns_transactions.push(tx);
    } else {
        names.dns_transactions_dropped = names.dns_transactions_dropped.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str) -> Vec<u8> {
        let mut m = vec![(id >> 8) as u8, id as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        m
    }

    #[test]
    fn bounded_and_counted() {
        let mut names = Names::default();
        for i in 0..(MAX_TRANSACTIONS as u16 + 10) {
            let q = read(AppProto::Dns, &query(i, &format!("n{i}.example"))).unwrap();
            let tx = DnsTransaction {
                ts: 0,
                side: 0,
                packet: u64::from(i),
                question: q,
            };
            record(&mut names, tx, i == 0);
        }
        assert_eq!(names.dns_transactions.len(), MAX_TRANSACTIONS);
        assert_eq!(names.dns_transactions_dropped, 10);
        assert_eq!(names.dns_latest.unwrap().rrname, "n73.example");
        assert_eq!(read(AppProto::Tls, &query(1, "x.example")), None);
        assert_eq!(
            read(AppProto::Mdns, &query(1, "x.local")).unwrap().dialect,
            Dialect::Mdns
        );
    }
}
