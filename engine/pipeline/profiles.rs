//! Where flows are written, in order: each flow's TLS 1.3 handshake held
//! against its server name's profile ([`crate::classify::server_names`]),
//! a Reality-like switch's finding added to the record before it is
//! written, and the rules checked again on it (their alerts written just
//! before the record). The writer is the one place that sees every
//! worker's flows, in one order whatever the number of threads.

use std::sync::Arc;

use crate::classify::facts::Fact;
use crate::classify::server_names::ServerNames;
use crate::output::record::{AlertRecord, Event, FlowRecord};
use crate::rules::eval::{Facts, Matcher};
use crate::rules::RuleSet;

/// The profiles of an input.
#[derive(Default)]
pub struct Profiles {
    names: ServerNames,
    /// Files are read one after another, each on its own: a new file's
    /// first record starts a new table.
    per_file: bool,
    file: Option<u32>,
    rules: Option<Arc<RuleSet>>,
    /// Made when a first finding needs the rules checked.
    matcher: Option<Matcher>,
}

impl Profiles {
    /// For files read on their own (`per_file`) or as one input, with the
    /// run's rules.
    pub fn new(per_file: bool, rules: Option<Arc<RuleSet>>) -> Self {
        Profiles {
            per_file,
            rules,
            ..Profiles::default()
        }
    }

    /// What is to be written instead of `e`, when that changes: a flow
    /// record whose handshake its name's profile suspects gets that finding
    /// (unless it holds a stronger one), preceded by the alerts of the
    /// rules it now matches.
    pub fn judge(&mut self, e: &Event) -> Option<Vec<Event>> {
        let Event::Flow(r) = e else { return None };
        if self.per_file && self.file != Some(r.file) {
            self.names.clear();
            self.file = Some(r.file);
        }
        let n = r.names.as_deref()?;
        let h = n.handshake.as_deref()?;
        let found = self
            .names
            .judge(h, r.server.addr, n.obfuscation.is_none())?;
        let o = found.facts.into_iter().find_map(|f| match f {
            Fact::Obfuscation(o) => Some(o),
            _ => None,
        })?;
        if n.obfuscation
            .as_ref()
            .is_some_and(|have| have.confidence > o.confidence)
        {
            return None;
        }
        let packet = o.evidence.first().map_or(r.first_packet, |e| e.packet);
        let mut r = r.clone();
        r.names.as_mut()?.obfuscation = Some(o);
        let mut out = self.alerts(&mut r, packet);
        out.push(Event::Flow(r));
        Some(out)
    }

    /// The rules `r` matches now and did not before: added to its verdict,
    /// and their alerts (dated at the flow's end, at `packet`).
    fn alerts(&mut self, r: &mut FlowRecord, packet: u64) -> Vec<Event> {
        let Some(set) = &self.rules else {
            return Vec::new();
        };
        let m = self
            .matcher
            .get_or_insert_with(|| Matcher::new(Arc::clone(set)));
        let mut hits = Vec::new();
        let facts = Facts::new(r.proto, r.client, r.server, r.app_proto, r.names.as_deref());
        // A flow checked once more: its addresses are asked again.
        let mut listing = crate::rules::eval::Listing::Unknown;
        m.update(&facts, &mut listing, &mut r.verdict, &mut hits);
        hits.into_iter()
            .map(|hit| {
                Event::Alert(Box::new(AlertRecord {
                    ts: r.end,
                    packet,
                    flow_id: r.flow_id,
                    file: r.file,
                    client: r.client,
                    server: r.server,
                    proto: r.proto,
                    app_proto: r.app_proto,
                    names: r.names.clone(),
                    hit,
                }))
            })
            .collect()
    }

    /// Names forgotten to stay within the table's bound.
    pub fn forgotten(&self) -> u64 {
        self.names.forgotten
    }
}
