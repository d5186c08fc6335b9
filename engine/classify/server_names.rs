//! What earlier TLS 1.3 sessions to each server name looked like, to tell
//! a server that only claims the name: a Reality-like switch.
//!
//! Reality (Xray) and its kind answer a ClientHello for a popular name
//! (www.microsoft.com, say) with their own TLS 1.3 handshake — a
//! throw-away certificate — when the client proves it is theirs, and relay
//! anyone else to the real site. From outside the name and the hello are
//! the real site's; what differs is the server: its encrypted flight
//! (certificate chain and all) is not the real site's size unless the
//! implementation pads it to match, and it sends no session ticket
//! (Reality's TLS library must run with tickets disabled) where the real
//! site always sends one right after the handshake.
//!
//! Those are properties of a name's server, not of one flow, so they are
//! learned: every full TLS 1.3 handshake with a name adds to that name's
//! [`Profile`] — how many sessions, the range of its servers' flights, the
//! range of the first record after the handshake, the server addresses —
//! one profile for clients that offer certificate compression and one for
//! those that do not (a compressed chain is a smaller flight).
//! Once a name has [`MIN_SESSIONS`] sessions, a session to an address the
//! name's sessions never used is held against it: a flight outside the
//! profile's range by more than [`FLIGHT_MARGIN_PERCENT`] (when the
//! profile's flights agree within [`FLIGHT_SPREAD_PERCENT`]), and a first
//! record that is not the ticket every earlier session began with (when
//! they all began with one record of one length, within
//! [`TICKET_SPREAD`], of a ticket's size). Either is a suspicion
//! (`borrowed_handshake`, suspect `reality`), low with one, medium with
//! both; a suspected session is not learned, nor one with another
//! obfuscation finding (a tunnel).
//!
//! Judged where flows are written ([`crate::pipeline`]), in the order they
//! are written (a flow's end): flows are sharded among workers by address
//! pair, so a name's sessions to its real servers and to a Reality-like one
//! are handled by different workers, and only the writer sees them all —
//! in one order, whatever the number of threads. A session is held against
//! the sessions to its name written before it; each input file read on its
//! own starts a new table (merged files and live traffic are one). Rules,
//! checked in the workers as a flow goes, do not see this finding; the
//! flow record, its events and the summary do. Bounded: [`MAX_NAMES`]
//! names, the oldest forgotten first (counted in `forgotten`).
//!
//! What it cannot see: a name with fewer than [`MIN_SESSIONS`] sessions in
//! the input; a server that pads its flight to the real site's and sends a
//! ticket-sized record (recent Reality releases mirror the real site's
//! record lengths); a name whose real servers differ among themselves.

use std::collections::VecDeque;
use std::net::IpAddr;

use hashbrown::HashMap;

use super::dissector::{Confidence, Findings};
use super::obfuscation::{Class, Suspect};
use super::tls::shapes::handshake::Handshake;
use super::tls::shapes::{suspicion, Clue};
use super::vpn::Value;

/// Names remembered.
pub const MAX_NAMES: usize = 4096;
/// Sessions of a name before a new server of it is held against them.
pub const MIN_SESSIONS: u32 = 3;
/// Server addresses remembered per name (more count as "many").
pub const MAX_ADDRESSES: usize = 4;
/// A name's flights agree when the largest is within this share of the
/// smallest (a chain with another intermediate or key type differs by far
/// more; one server's flights differ by a few bytes of extensions).
pub const FLIGHT_SPREAD_PERCENT: usize = 25;
/// A flight this far outside the name's range is another server's.
/// (Measured: a P-256 or RSA chain with an intermediate is 1.9–4.5 KB; a
/// Reality-like throw-away Ed25519 certificate makes a flight of about
/// 0.4 KB.)
pub const FLIGHT_MARGIN_PERCENT: usize = 25;
/// A name's sessions began with a ticket when their first records after
/// the handshake are within this many bytes of each other ...
pub const TICKET_SPREAD: usize = 32;
/// ... and of a session ticket's size: a NewSessionTicket with a ticket of
/// about 50 to 900 bytes, its header, the inner content type and the tag
/// (an HTTP/2 SETTINGS answer is smaller, most pages larger).
pub const TICKET_MIN: usize = 80;
pub const TICKET_MAX: usize = 1024;

/// What the sessions to one name showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub sessions: u32,
    /// Smallest and largest server flight.
    pub flight: (usize, usize),
    /// Sessions whose client allowed tickets, and of them those whose
    /// server's first record after the handshake was seen, with its
    /// smallest and largest length.
    pub ticketable: u32,
    pub firsts: u32,
    pub first: (usize, usize),
    /// Server addresses seen, the first [`MAX_ADDRESSES`].
    pub servers: Vec<IpAddr>,
}

impl Profile {
    fn learn(&mut self, h: &Handshake, server: IpAddr) {
        let widen = |r: &mut (usize, usize), n: usize, first: bool| {
            *r = if first {
                (n, n)
            } else {
                (r.0.min(n), r.1.max(n))
            };
        };
        widen(&mut self.flight, h.flight, self.sessions == 0);
        self.sessions = self.sessions.saturating_add(1);
        if h.tickets {
            self.ticketable = self.ticketable.saturating_add(1);
            if let Some((n, _)) = h.first_after {
                widen(&mut self.first, n, self.firsts == 0);
                self.firsts = self.firsts.saturating_add(1);
            }
        }
        if self.servers.len() < MAX_ADDRESSES && !self.servers.contains(&server) {
            self.servers.push(server);
        }
    }

    /// The flights agree among themselves.
    fn flights_agree(&self) -> bool {
        self.flight.1.saturating_mul(100)
            <= self.flight.0.saturating_mul(100 + FLIGHT_SPREAD_PERCENT)
    }

    /// Every session whose client allowed tickets began with one.
    fn always_tickets(&self) -> bool {
        self.ticketable >= MIN_SESSIONS
            && self.firsts == self.ticketable
            && self.first.1 - self.first.0 <= TICKET_SPREAD
            && self.first.0 >= TICKET_MIN
            && self.first.1 <= TICKET_MAX
    }

    /// What `h`, from `server`, shows against this profile.
    pub fn judge(&self, h: &Handshake, server: IpAddr) -> Option<Findings> {
        if self.sessions < MIN_SESSIONS || self.servers.contains(&server) {
            return None;
        }
        let (low, high) = self.flight;
        let flight_off = self.flights_agree()
            && (h.flight.saturating_mul(100) < low.saturating_mul(100 - FLIGHT_MARGIN_PERCENT)
                || h.flight.saturating_mul(100) > high.saturating_mul(100 + FLIGHT_MARGIN_PERCENT));
        let no_ticket = match h.first_after {
            Some((n, _)) if h.tickets && self.always_tickets() => {
                n.saturating_add(TICKET_SPREAD) < self.first.0
                    || n > self.first.1.saturating_add(TICKET_SPREAD)
            }
            _ => false,
        };
        if !flight_off && !no_ticket {
            return None;
        }
        let sessions = self.sessions;
        let mut features = vec![
            ("name_sessions", Value::Number(u64::from(sessions))),
            ("server_flight", Value::Number(h.flight as u64)),
            ("name_flight_min", Value::Number(low as u64)),
            ("name_flight_max", Value::Number(high as u64)),
        ];
        let mut evidence = Vec::new();
        if flight_off {
            evidence.push((
                h.flight_packet,
                Clue::FlightAgainstName {
                    flight: h.flight,
                    low,
                    high,
                    sessions,
                },
            ));
        }
        if let Some((first, packet)) = h.first_after.filter(|_| no_ticket) {
            features.push(("first_record_after_handshake", Value::Number(first as u64)));
            features.push(("name_ticket_min", Value::Number(self.first.0 as u64)));
            features.push(("name_ticket_max", Value::Number(self.first.1 as u64)));
            evidence.push((
                packet,
                Clue::NoTicket {
                    first,
                    low: self.first.0,
                    high: self.first.1,
                    sessions: self.firsts,
                },
            ));
        }
        let confidence = if flight_off && no_ticket {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        Some(suspicion(
            Class::BorrowedHandshake,
            vec![Suspect::Reality],
            confidence,
            features,
            evidence,
        ))
    }
}

/// A profile's key: the server name, and whether the client offered
/// certificate compression (a server that compresses its chain sends a
/// flight of another size to clients that allow it: browsers do, curl and
/// most libraries do not; each kind is held against its own).
type Key = (String, bool);

/// [`Key`] borrowed, for lookups.
#[derive(Hash)]
struct KeyRef<'a>(&'a str, bool);

impl hashbrown::Equivalent<Key> for KeyRef<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// The profiles, by server name.
#[derive(Debug, Default)]
pub struct ServerNames {
    names: HashMap<Key, Profile>,
    /// Names in the order they were first seen, for forgetting.
    order: VecDeque<Key>,
    /// Names forgotten to stay within [`MAX_NAMES`].
    pub forgotten: u64,
}

impl ServerNames {
    /// Holds `h`, a handshake with `server`, against its name's profile;
    /// learns it unless it is suspected or `learn` is false (the flow has
    /// another obfuscation finding).
    pub fn judge(&mut self, h: &Handshake, server: IpAddr, learn: bool) -> Option<Findings> {
        if let Some(p) = self.names.get_mut(&KeyRef(&h.name, h.compressed)) {
            let found = p.judge(h, server);
            if found.is_none() && learn {
                p.learn(h, server);
            }
            return found;
        }
        if !learn {
            return None;
        }
        if self.order.len() >= MAX_NAMES {
            if let Some(old) = self.order.pop_front() {
                self.names.remove(&old);
                self.forgotten += 1;
            }
        }
        let mut p = Profile::default();
        p.learn(h, server);
        let key = (h.name.clone(), h.compressed);
        self.names.insert(key.clone(), p);
        self.order.push_back(key);
        None
    }

    /// Forgets every name (an input file ended).
    pub fn clear(&mut self) {
        self.names.clear();
        self.order.clear();
    }

    /// Names held now.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The profile of `name` for clients that offer certificate
    /// compression or not (`compressed`), if held.
    pub fn profile(&self, name: &str, compressed: bool) -> Option<&Profile> {
        self.names.get(&KeyRef(name, compressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::facts::Fact;

    fn hs(flight: usize, first: Option<usize>) -> Handshake {
        Handshake {
            name: "www.example.com".into(),
            flight,
            flight_packet: 3,
            first_after: first.map(|n| (n, 7)),
            tickets: true,
            compressed: false,
        }
    }

    fn addr(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    fn verdict(f: Option<Findings>) -> Option<(Confidence, Vec<String>)> {
        let f = f?;
        let Some(Fact::Obfuscation(o)) = f.facts.first() else {
            panic!("no obfuscation fact: {f:?}");
        };
        assert_eq!(o.class, Class::BorrowedHandshake);
        assert_eq!(o.suspects, vec![Suspect::Reality]);
        Some((
            o.confidence,
            o.evidence.iter().map(|e| e.what.to_string()).collect(),
        ))
    }

    /// Three sessions of a real site: 3.4–3.5 KB flights, 250-byte tickets.
    fn learned() -> ServerNames {
        let mut t = ServerNames::default();
        for (i, f) in [3400, 3460, 3420].into_iter().enumerate() {
            assert!(t.judge(&hs(f, Some(250 + i)), addr(1), true).is_none());
        }
        t
    }

    #[test]
    fn a_small_flight_without_ticket_from_another_server_is_suspected() {
        let mut t = learned();
        let (c, ev) = verdict(t.judge(&hs(420, Some(1200)), addr(9), true)).unwrap();
        assert_eq!(c, Confidence::Medium);
        assert_eq!(ev.len(), 2);
        assert!(ev[0].contains("flight is 420 bytes"), "{ev:?}");
        assert!(ev[1].contains("not the session ticket"), "{ev:?}");
        // Not learned: the profile is the real site's still.
        assert_eq!(t.profile("www.example.com", false).unwrap().sessions, 3);
    }

    #[test]
    fn one_signal_is_low() {
        let mut t = learned();
        // The flight padded to the real one's, no ticket.
        let (c, ev) = verdict(t.judge(&hs(3440, Some(1400)), addr(9), true)).unwrap();
        assert_eq!((c, ev.len()), (Confidence::Low, 1));
        // A small flight, the ticket's size first.
        let (c, _) = verdict(t.judge(&hs(400, Some(255)), addr(9), true)).unwrap();
        assert_eq!(c, Confidence::Low);
    }

    #[test]
    fn what_agrees_or_cannot_be_told_is_not_suspected() {
        let mut t = learned();
        // Another address of the same site, same shape: learned.
        assert!(t.judge(&hs(3450, Some(251)), addr(2), true).is_none());
        assert_eq!(
            t.profile("www.example.com", false).unwrap().servers.len(),
            2
        );
        // A known address is never held against its own name.
        assert!(t.judge(&hs(400, Some(1400)), addr(1), true).is_none());
        // Too few sessions.
        let mut few = ServerNames::default();
        few.judge(&hs(3400, Some(250)), addr(1), true);
        few.judge(&hs(3400, Some(250)), addr(1), true);
        assert!(few.judge(&hs(400, Some(1400)), addr(9), true).is_none());
        // A client that allowed no tickets gets none: only the flight counts.
        let mut no = hs(3430, Some(1400));
        no.tickets = false;
        assert!(t.judge(&no, addr(9), true).is_none());
        // The server's output not seen after the handshake.
        assert!(t.judge(&hs(3430, None), addr(9), true).is_none());
    }

    #[test]
    fn clients_that_allow_compressed_chains_are_held_apart() {
        let mut t = learned();
        // A browser's session to another address of the site: the chain
        // compressed, a smaller flight — its own profile, not a suspect.
        let mut browser = hs(2100, Some(250));
        browser.compressed = true;
        assert!(t.judge(&browser, addr(2), true).is_none());
        assert_eq!(t.profile("www.example.com", true).unwrap().sessions, 1);
        assert_eq!(t.profile("www.example.com", false).unwrap().sessions, 3);
    }

    #[test]
    fn names_whose_servers_differ_are_not_judged() {
        let mut t = ServerNames::default();
        // Flights 1.9 and 4.1 KB (two chains), first records of two sizes.
        for (f, n) in [(1900, 250), (4100, 250), (2000, 600)] {
            t.judge(&hs(f, Some(n)), addr(1), true);
        }
        assert!(t.judge(&hs(400, Some(1400)), addr(9), true).is_none());
    }

    #[test]
    fn first_records_outside_a_tickets_size_are_no_tickets() {
        let mut t = ServerNames::default();
        // A server whose first record after the handshake is its answer
        // (2 KB, the same page each time): not a ticket.
        for _ in 0..3 {
            t.judge(&hs(3400, Some(2000)), addr(1), true);
        }
        assert!(t.judge(&hs(3400, Some(300)), addr(9), true).is_none());
    }

    #[test]
    fn unlearned_tunnels_and_the_bound() {
        let mut t = ServerNames::default();
        assert!(t.judge(&hs(3400, Some(250)), addr(1), false).is_none());
        assert!(t.is_empty());
        for i in 0..MAX_NAMES + 5 {
            let mut h = hs(3400, Some(250));
            h.name = format!("n{i}.example");
            t.judge(&h, addr(1), true);
        }
        assert_eq!(t.len(), MAX_NAMES);
        assert_eq!(t.forgotten, 5);
        assert!(t.profile("n0.example", false).is_none());
        assert!(t.profile("n5.example", false).is_some());
        t.clear();
        assert!(t.is_empty());
    }
}
