//! The receiver's view of a flow's packets: each TCP copy judged
//! ([`evasion::judge`](super::super::evasion::judge)) before its bytes
//! enter the side's stream — SYN data held until the SYN-ACK rules on it,
//! of several SYNs the acknowledged one, suspect copies held until a valid
//! copy or the server's ACK rules on them, the urgent byte removed — and
//! QUIC client Initials of other connections read aside until the server's
//! answer tells the real one ([`evasion::quic`](super::super::evasion::quic)).

use super::super::evasion::watch::{SynData, MAX_SYN_DATA};
use super::super::evasion::{self, Technique};
use super::{is_padding, AppState, Outcome, Packet, Seen, Work};
use crate::classify::reassembly::{Budget, Placed};
use crate::decode::transport::{tcp_flags, TcpHeader};
use crate::flow::{TO_CLIENT, TO_SERVER};

impl AppState {
    /// A TCP packet: judged as its receiver would judge it, then, if the
    /// receiver takes it, its bytes into the side's stream.
    pub(super) fn tcp(
        &mut self,
        p: &Packet<'_, '_>,
        h: &TcpHeader,
        seen: &Seen<'_>,
        budget: &mut Budget,
        out: &mut Outcome,
    ) -> Next {
        let payload = p.decoded.transport.payload;
        if self.done && p.side == TO_CLIENT && !h.has(tcp_flags::SYN) {
            // Only the client's transactions are read on (`follow_stream`):
            // of the server's packets, only the acknowledgement counts (it
            // may settle held client copies). Nothing is judged: the
            // guard's view of the server judges only server copies, and
            // their bytes are not read any more.
            if h.has(tcp_flags::ACK) {
                self.server_acked(h.ack, seen, budget, out);
            }
            return if payload.is_empty() {
                Next::Tick
            } else {
                Next::Stop
            };
        }
        let copy = self.guard.tcp(p.decoded, h, p.side);
        if p.side == TO_CLIENT && h.has(tcp_flags::ACK) {
            self.server_acked(h.ack, seen, budget, out);
        }
        if h.has(tcp_flags::SYN) {
            if copy.fooling != 0 {
                if !payload.is_empty() && self.probing() {
                    let work = self.work.get_or_insert_with(Box::default);
                    work.watch.fake(copy.fooling, payload, p.index);
                }
                return Next::Stop;
            }
            if h.has(tcp_flags::RST) {
                // SYN and RST together: no host takes it.
                return Next::Stop;
            }
            self.syn[p.side].get_or_insert(h.seq);
            if p.side == TO_SERVER {
                self.syn_last = Some(h.seq);
                if !payload.is_empty() {
                    // Data in a SYN: held until the SYN-ACK tells whether
                    // the server took it.
                    let work = self.work.get_or_insert_with(Box::default);
                    work.watch.syn_data.get_or_insert_with(|| SynData {
                        seq: h.seq,
                        bytes: payload[..payload.len().min(MAX_SYN_DATA)].to_vec(),
                        packet: p.index,
                    });
                    return Next::Stop;
                }
            } else if h.has(tcp_flags::ACK) {
                self.syn_acked(h.ack, seen, budget, out);
            }
            // Data on a SYN-ACK is not taken by a client that did not ask
            // for Fast Open (and is junk in the captures that show it).
            return Next::Tick;
        }
        if payload.is_empty() {
            return Next::Tick;
        }
        if self.done && p.side != TO_SERVER {
            // Classification is over and only the client's transactions
            // are read on (`follow_stream`): the server's bytes are not.
            return Next::Stop;
        }
        let started = self
            .work
            .as_ref()
            .is_some_and(|w| w.streams[p.side].delivered() > 0);
        if is_padding(h.flags, payload) && !started {
            return Next::Stop;
        }
        self.data_packets = self.data_packets.saturating_add(1);
        self.data_bytes = self.data_bytes.saturating_add(payload.len() as u32);
        if p.side == TO_SERVER {
            self.syn_data_resent(h.seq, seen, budget, out);
        }
        let probing = self.probing();
        if copy.fooling != 0 {
            let work = self.work.get_or_insert_with(Box::default);
            work.watch.fake(copy.fooling, payload, p.index);
            return Next::Go;
        }
        if p.side == TO_SERVER {
            let work = self.work.get_or_insert_with(Box::default);
            if copy.suspect != 0 {
                let (real, held) = work.watch.suspect(copy.suspect, h.seq, payload, p.index);
                self.take_suspects(real, seen, budget, out);
                if held {
                    return Next::Go;
                }
            }
            let Some(work) = self.work.as_mut() else {
                return Next::Go;
            };
            if !work.watch.suspects.is_empty() {
                let real = work.watch.rule_suspects(h.seq, payload);
                self.take_suspects(real, seen, budget, out);
            }
        }
        let placed = self.feed(p.side, h.seq, payload, copy.urgent, seen, budget, out);
        if placed.in_order {
            self.guard.in_order(p.side, &copy);
        }
        let Some(work) = self.work.as_mut() else {
            return Next::Go;
        };
        let watch = &mut work.watch;
        if placed.off_sequence && p.side == TO_SERVER {
            watch.fake(evasion::fooling::BADSEQ, payload, p.index);
            return Next::Go;
        }
        if probing {
            watch.ip(&p.decoded.ip, p.index);
            if placed.overlapped_start || placed.rewrote && p.side == TO_SERVER {
                watch.found.note(Technique::SeqOvl, 0, Some(p.index));
            }
            if copy.urgent.is_some_and(|u| u > 0) {
                watch.found.note(Technique::Oob, 0, Some(p.index));
                if placed.held {
                    watch.found.note(Technique::Disorder, 0, Some(p.index));
                }
            }
            if p.side == TO_SERVER {
                watch.piece(placed.at, placed.len, p.index, placed.held);
            }
        }
        Next::Go
    }

    /// Valid bytes of `side` at sequence number `seq` into its stream, and
    /// what becomes contiguous to the dissectors. `urgent`: the segment's
    /// urgent pointer (the byte it marks is removed).
    #[allow(clippy::too_many_arguments)]
    fn feed(
        &mut self,
        side: usize,
        seq: u32,
        bytes: &[u8],
        urgent: Option<u16>,
        seen: &Seen<'_>,
        budget: &mut Budget,
        out: &mut Outcome,
    ) -> Placed {
        let decided = !self.probing();
        let work = self.work.get_or_insert_with(Box::default);
        let Work {
            streams,
            run,
            watch,
            follower,
            ..
        } = &mut **work;
        let stream = &mut streams[side];
        if let Some(isn) = self.syn[side] {
            stream.rebase(isn, budget);
        }
        if let Some(u) = urgent.filter(|&u| u > 0) {
            stream.urgent(seq.wrapping_add(u32::from(u) - 1));
        }
        let refused = &mut self.refused;
        let client = side == TO_SERVER && !decided;
        let follow = side == TO_SERVER && seen.transactions;
        stream.segment(seq, bytes, budget, &mut |b| {
            if client {
                watch.client_bytes(b);
            }
            if follow {
                if !run.opened[TO_SERVER] {
                    *follower = super::super::transactions::StreamFollower::start(
                        b,
                        seen.keep_transactions,
                    )
                    .map(Box::new);
                }
                if let Some(f) = follower.as_mut() {
                    f.feed(b);
                }
            }
            run.stream(b, seen, decided, refused, out);
        })
    }

    /// The server acknowledged client bytes up to `ack`: suspect copies it
    /// covers were taken (the capture shows offloaded checksums).
    fn server_acked(&mut self, ack: u32, seen: &Seen<'_>, budget: &mut Budget, out: &mut Outcome) {
        let Some(w) = self.work.as_mut().filter(|w| !w.watch.suspects.is_empty()) else {
            return;
        };
        let taken = w.watch.acked_suspects(ack);
        if !taken.is_empty() {
            if taken
                .iter()
                .any(|s| s.fooling & evasion::fooling::BADSUM != 0)
            {
                self.guard.offload(TO_SERVER);
            }
            self.take_suspects(taken, seen, budget, out);
        }
    }

    /// Suspect client copies found real: into the stream.
    fn take_suspects(
        &mut self,
        real: Vec<evasion::watch::Suspect>,
        seen: &Seen<'_>,
        budget: &mut Budget,
        out: &mut Outcome,
    ) {
        for s in real {
            let at = Seen {
                side: TO_SERVER,
                packet: s.packet,
                ..*seen
            };
            let placed = self.feed(TO_SERVER, s.seq, &s.bytes, None, &at, budget, out);
            if placed.off_sequence {
                if let Some(w) = self.work.as_mut() {
                    w.watch
                        .fake(s.fooling | evasion::fooling::BADSEQ, &s.bytes, s.packet);
                }
            }
        }
    }

    /// The SYN-ACK acknowledges `ack`: the client SYN it answers gives the
    /// client stream's start (of several SYNs, that one), and SYN data it
    /// covers was taken; SYN data it does not cover was not.
    fn syn_acked(&mut self, ack: u32, seen: &Seen<'_>, budget: &mut Budget, out: &mut Outcome) {
        let isn = ack.wrapping_sub(1);
        if let Some(d) = self.work.as_mut().and_then(|w| w.watch.syn_data.take()) {
            if ack == d.seq.wrapping_add(1).wrapping_add(d.bytes.len() as u32) {
                self.syn[TO_SERVER] = Some(d.seq);
                self.take_syn_data(d, seen, budget, out);
                return;
            }
            if let Some(w) = self.work.as_mut() {
                w.watch.syn_refused(&d);
            }
        }
        if self.syn_last == Some(isn) {
            self.syn[TO_SERVER] = Some(isn);
        }
    }

    /// A client data segment at `seq` while SYN data waits: at the SYN's
    /// sequence number + 1 it is the data sent again (the server did not
    /// take it); anywhere else, the SYN data was taken.
    fn syn_data_resent(
        &mut self,
        seq: u32,
        seen: &Seen<'_>,
        budget: &mut Budget,
        out: &mut Outcome,
    ) {
        let Some(d) = self.work.as_mut().and_then(|w| w.watch.syn_data.take()) else {
            return;
        };
        if seq == d.seq.wrapping_add(1) {
            if let Some(w) = self.work.as_mut() {
                w.watch.syn_refused(&d);
            }
        } else {
            self.take_syn_data(d, seen, budget, out);
        }
    }

    /// SYN data the server took: the stream's first bytes.
    fn take_syn_data(
        &mut self,
        d: SynData,
        seen: &Seen<'_>,
        budget: &mut Budget,
        out: &mut Outcome,
    ) {
        let at = Seen {
            side: TO_SERVER,
            packet: d.packet,
            ..*seen
        };
        self.data_packets = self.data_packets.saturating_add(1);
        self.data_bytes = self.data_bytes.saturating_add(d.bytes.len() as u32);
        self.feed(
            TO_SERVER,
            d.seq.wrapping_add(1),
            &d.bytes,
            None,
            &at,
            budget,
            out,
        );
    }

    /// QUIC decoys ([`evasion::quic`]): a client Initial of another
    /// connection is read aside (true: the caller goes on without it); the
    /// server's answer tells which connection was real.
    pub(super) fn quic_aside(&mut self, p: &Packet<'_, '_>, seen: &Seen<'_>) -> bool {
        let payload = p.decoded.transport.payload;
        if p.side == TO_SERVER {
            if !quic_initial(payload) {
                return false;
            }
            let work = self.work.get_or_insert_with(Box::default);
            let input = seen.input(payload, false, None);
            return work.watch.quic.client_initial(p.decoded, &input);
        }
        let waiting = self.work.as_ref().is_some_and(|w| w.watch.quic.waiting());
        if waiting && evasion::quic::answers(payload) {
            self.quic_resolve(Some(payload));
        }
        false
    }

    /// Tells the real QUIC connection from decoys (`server`: the answer, or
    /// none at the flow's end); the flow's name becomes the real one's.
    pub(super) fn quic_resolve(&mut self, server: Option<&[u8]>) {
        let Some(work) = self.work.as_mut() else {
            return;
        };
        let first = self.names.as_ref().and_then(|n| {
            let q = n.quic.as_ref()?;
            q.hello
                .as_ref()
                .and_then(|h| h.sni.clone())
                .or_else(|| q.gquic_sni.clone())
        });
        let real = work
            .watch
            .quic
            .resolve(server, first.as_deref(), &mut work.watch.found);
        if let Some(real) = real {
            let mine = self.names.get_or_insert_with(Box::default);
            mine.quic = Some(real);
            self.revision = self.revision.wrapping_add(1);
        }
    }

    /// A UDP datagram as its receiver judges it (checksum, TTL, IPv6
    /// headers; a QUIC client Initial under 1,200 bytes): the fooling bits
    /// of a decoy, or 0.
    pub(super) fn judge_datagram(&mut self, p: &Packet<'_, '_>) -> u16 {
        let payload = p.decoded.transport.payload;
        // Only a datagram that could be a QUIC long header is judged: the
        // decoys desync tools send are QUIC Initials.
        if payload.first().is_none_or(|b| b & 0x80 == 0) {
            return 0;
        }
        let f = self.guard.udp(p.decoded, p.side);
        if p.side != TO_SERVER || !quic_initial(payload) {
            return 0;
        }
        f | if payload.len() < 1200 {
            evasion::fooling::SHORT_INITIAL
        } else {
            0
        }
    }
}

/// What to do after a TCP packet's judgement.
pub(super) enum Next {
    /// Its bytes were taken (or judged): go on.
    Go,
    /// No payload: a tick after a verdict.
    Tick,
    /// Nothing to do.
    Stop,
}

/// True for a QUIC v1 or v2 long-header Initial packet.
pub(super) fn quic_initial(b: &[u8]) -> bool {
    let (Some(&first), Some(version)) = (b.first(), crate::bytes::be32(b, 1)) else {
        return false;
    };
    let ty = (first >> 4) & 3;
    first & 0xc0 == 0xc0
        && match version {
            1 => ty == 0,
            0x6b33_43cf => ty == 1,
            _ => false,
        }
}
