//! pcapng (`.pcapng`): sections in either byte order, several interfaces with
//! their own link types and timestamp resolutions, Enhanced, Simple and
//! obsolete Packet blocks. Other block types are skipped by length.
//!
//! Per interface, `if_tsresol` (powers of 10 or of 2) and `if_tsoffset` are
//! honoured. A packet naming an interface that was never described is
//! corruption. A block whose length is not a multiple of 4, shorter than 12
//! bytes or longer than [`MAX_BLOCK`] ends the file as corrupt.

use super::{CaptureError, LinkType, RawPacket, Timestamp, NANOS_PER_SEC};

/// Largest block accepted (a packet of 256 KiB plus headers and options).
pub const MAX_BLOCK: u32 = 16 * 1024 * 1024;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const OPB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// A section header block with no options.
const MIN_SECTION_HEADER: usize = 28;

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units: `units_per_sec`, converted exactly when a power of 10.
    units_per_sec: u64,
    offset_secs: i64,
}

impl Interface {
    fn timestamp(&self, units: u64) -> Timestamp {
        let secs = units / self.units_per_sec;
        let rem = units % self.units_per_sec;
        let nanos =
            (u128::from(rem) * u128::from(NANOS_PER_SEC) / u128::from(self.units_per_sec)) as u64;
        let secs = (secs as i64).saturating_add(self.offset_secs).max(0) as u64;
        secs.saturating_mul(NANOS_PER_SEC).saturating_add(nanos)
    }
}

pub struct PcapngReader<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
    interfaces: Vec<Interface>,
    done: bool,
    /// Why reading stopped early, until taken ([`PcapngReader::take_error`]).
    error: Option<CaptureError>,
}

impl<'a> PcapngReader<'a> {
    pub fn sniff(data: &[u8]) -> bool {
        data.len() >= 4 && data[..4] == SHB.to_le_bytes()
    }

    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        if data.len() < 12 {
            return Err(CaptureError::TooShort(data.len()));
        }
        if !Self::sniff(data) {
            return Err(CaptureError::NotACapture(data[..4].to_vec()));
        }
        let mut r = PcapngReader {
            data,
            pos: 0,
            big_endian: false,
            interfaces: Vec::new(),
            done: false,
            error: None,
        };
        r.read_byte_order(0)?;
        // The whole section header is the capture's header: without it the
        // file is refused (exit 2), as a pcap under 24 bytes is; damage
        // after it is a truncated capture (a warning).
        let total = r.u32_at(data, 4) as usize;
        if data.len() < total.max(MIN_SECTION_HEADER) {
            return Err(CaptureError::TooShort(data.len()));
        }
        Ok(r)
    }

    /// The link types of the interfaces described so far.
    pub fn link_types(&self) -> impl Iterator<Item = LinkType> + '_ {
        self.interfaces.iter().map(|i| i.link)
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    fn read_byte_order(&mut self, at: usize) -> Result<(), CaptureError> {
        let m = self
            .data
            .get(at + 8..at + 12)
            .ok_or(CaptureError::Truncated {
                what: "section header",
                offset: at as u64,
                needed: 12,
                available: (self.data.len() - at) as u64,
            })?;
        let m = [m[0], m[1], m[2], m[3]];
        self.big_endian = if u32::from_le_bytes(m) == BYTE_ORDER_MAGIC {
            false
        } else if u32::from_be_bytes(m) == BYTE_ORDER_MAGIC {
            true
        } else {
            return Err(CaptureError::Corrupt {
                what: format!("section header byte-order magic {m:02x?}"),
                offset: at as u64 + 8,
            });
        };
        Ok(())
    }

    fn u16_at(&self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        if self.big_endian {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    fn u32_at(&self, b: &[u8], at: usize) -> u32 {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    fn fail(&mut self, e: CaptureError) -> Option<Result<RawPacket<'a>, CaptureError>> {
        self.done = true;
        Some(Err(e))
    }

    /// The next record; None at the end or at an error, which
    /// [`take_error`](Self::take_error) then gives (the form the reading
    /// loop takes records in, see [`super::pcap::PcapReader::next_record`]).
    pub fn next_record(&mut self) -> Option<RawPacket<'a>> {
        match self.next_packet()? {
            Ok(p) => Some(p),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Why the last [`next_record`](Self::next_record) found none: the
    /// file's error, or None at its end.
    pub fn take_error(&mut self) -> Option<CaptureError> {
        self.error.take()
    }

    pub fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        loop {
            if self.done || self.pos >= self.data.len() {
                return None;
            }
            let at = self.pos;
            let remaining = self.data.len() - at;
            if remaining < 12 {
                return self.fail(CaptureError::Truncated {
                    what: "block header",
                    offset: at as u64,
                    needed: 12,
                    available: remaining as u64,
                });
            }
            let raw_type = u32::from_le_bytes([
                self.data[at],
                self.data[at + 1],
                self.data[at + 2],
                self.data[at + 3],
            ]);
            if raw_type == SHB {
                // A new section may switch byte order and resets interfaces.
                if let Err(e) = self.read_byte_order(at) {
                    return self.fail(e);
                }
                self.interfaces.clear();
            }
            let block_type = self.u32_at(self.data, at);
            let len = self.u32_at(self.data, at + 4);
            if len < 12 || len % 4 != 0 || len > MAX_BLOCK {
                return self.fail(CaptureError::Corrupt {
                    what: format!("block of type {block_type:#x} claims length {len}"),
                    offset: at as u64,
                });
            }
            if len as usize > remaining {
                return self.fail(CaptureError::Truncated {
                    what: "block",
                    offset: at as u64,
                    needed: u64::from(len),
                    available: remaining as u64,
                });
            }
            let data: &'a [u8] = self.data;
            let block = &data[at..at + len as usize];
            self.pos = at + len as usize;
            crate::prefetch::bytes(data, self.pos + 4096, len as usize);
            let body = &block[8..block.len() - 4];
            match block_type {
                IDB => {
                    if let Err(e) = self.read_interface(body, at) {
                        return self.fail(e);
                    }
                }
                EPB | OPB => return Some(self.packet_block(block_type, body, at)),
                SPB => {
                    let Some(iface) = self.interfaces.first().copied() else {
                        return self.fail(CaptureError::Corrupt {
                            what: "simple packet block before any interface".into(),
                            offset: at as u64,
                        });
                    };
                    if body.len() < 4 {
                        return self.fail(short_block("simple packet block", at));
                    }
                    let wire_len = self.u32_at(body, 0);
                    let mut caplen = body.len() - 4;
                    if iface.snaplen > 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    caplen = caplen.min(wire_len as usize);
                    return Some(Ok(RawPacket {
                        ts: 0,
                        link: iface.link,
                        data: &body[4..4 + caplen],
                        wire_len,
                    }));
                }
                _ => {}
            }
        }
    }

    fn read_interface(&mut self, body: &[u8], at: usize) -> Result<(), CaptureError> {
        if body.len() < 8 {
            return Err(short_block("interface description block", at));
        }
        let mut iface = Interface {
            link: LinkType(self.u16_at(body, 0)),
            snaplen: self.u32_at(body, 4),
            units_per_sec: 1_000_000,
            offset_secs: 0,
        };
        let mut o = 8;
        while o + 4 <= body.len() {
            let code = self.u16_at(body, o);
            let olen = self.u16_at(body, o + 2) as usize;
            let val = match body.get(o + 4..o + 4 + olen) {
                Some(v) => v,
                None => break,
            };
            match code {
                OPT_END => break,
                OPT_IF_TSRESOL if olen >= 1 => {
                    let r = val[0];
                    let exp = u32::from(r & 0x7f);
                    let units = if r & 0x80 == 0 {
                        10u64.checked_pow(exp)
                    } else {
                        2u64.checked_pow(exp)
                    };
                    match units {
                        Some(u) if u > 0 => iface.units_per_sec = u,
                        _ => {
                            return Err(CaptureError::Corrupt {
                                what: format!("if_tsresol {r:#x} out of range"),
                                offset: (at + 8 + o) as u64,
                            })
                        }
                    }
                }
                OPT_IF_TSOFFSET if olen >= 8 => {
                    let v = [
                        val[0], val[1], val[2], val[3], val[4], val[5], val[6], val[7],
                    ];
                    iface.offset_secs = if self.big_endian {
                        i64::from_be_bytes(v)
                    } else {
                        i64::from_le_bytes(v)
                    };
                }
                _ => {}
            }
            o += 4 + olen.div_ceil(4) * 4;
        }
        self.interfaces.push(iface);
        Ok(())
    }

    fn packet_block(
        &mut self,
        kind: u32,
        body: &'a [u8],
        at: usize,
    ) -> Result<RawPacket<'a>, CaptureError> {
        if body.len() < 20 {
            self.done = true;
            return Err(short_block("packet block", at));
        }
        let if_id = if kind == EPB {
            self.u32_at(body, 0) as usize
        } else {
            usize::from(self.u16_at(body, 0))
        };
        let Some(iface) = self.interfaces.get(if_id).copied() else {
            self.done = true;
            return Err(CaptureError::Corrupt {
                what: format!(
                    "packet names interface {if_id}, but {} are described",
                    self.interfaces.len()
                ),
                offset: at as u64,
            });
        };
        let ts_units = (u64::from(self.u32_at(body, 4)) << 32) | u64::from(self.u32_at(body, 8));
        let caplen = self.u32_at(body, 12) as usize;
        let wire_len = self.u32_at(body, 16);
        let Some(data) = body.get(20..20 + caplen) else {
            self.done = true;
            return Err(CaptureError::Corrupt {
                what: format!(
                    "packet claims {caplen} captured bytes, block holds {}",
                    body.len() - 20
                ),
                offset: at as u64,
            });
        };
        Ok(RawPacket {
            ts: iface.timestamp(ts_units),
            link: iface.link,
            data,
            wire_len: wire_len.max(caplen as u32),
        })
    }
}

fn short_block(what: &'static str, at: usize) -> CaptureError {
    CaptureError::Corrupt {
        what: format!("{what} too short"),
        offset: at as u64,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut padded = body.to_vec();
        while padded.len() % 4 != 0 {
            padded.push(0);
        }
        let len = (padded.len() + 12) as u32;
        let mut v = kind.to_le_bytes().to_vec();
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&padded);
        v.extend_from_slice(&len.to_le_bytes());
        v
    }

    pub(crate) fn shb() -> Vec<u8> {
        let mut body = BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
        body.extend_from_slice(&[1, 0, 0, 0]);
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        block(SHB, &body)
    }

    pub(crate) fn idb(link: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut body = link.to_le_bytes().to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&0u32.to_le_bytes());
        if let Some(r) = tsresol {
            body.extend_from_slice(&OPT_IF_TSRESOL.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&[r, 0, 0, 0]);
            body.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(IDB, &body)
    }

    pub(crate) fn epb(iface: u32, ts_units: u64, data: &[u8]) -> Vec<u8> {
        let mut body = iface.to_le_bytes().to_vec();
        body.extend_from_slice(&((ts_units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(ts_units as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(EPB, &body)
    }

    #[test]
    fn two_interfaces_with_own_link_types_and_resolutions() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(idb(101, Some(9)));
        f.extend(epb(0, 1_500_000, b"eth"));
        f.extend(block(5, b"statistics are skipped"));
        f.extend(epb(1, 2_000_000_123, b"raw"));
        let mut r = PcapngReader::new(&f).unwrap();
        let a = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (a.link, a.ts, a.data),
            (LinkType::ETHERNET, 1_500_000_000, &b"eth"[..])
        );
        let b = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (b.link, b.ts, b.data),
            (LinkType::RAW, 2_000_000_123, &b"raw"[..])
        );
        assert!(r.next_packet().is_none());
        assert_eq!(r.link_types().count(), 2);
    }

    #[test]
    fn unknown_interface_is_corruption() {
        let mut f = shb();
        f.extend(epb(0, 1, b"x"));
        let mut r = PcapngReader::new(&f).unwrap();
        assert!(matches!(
            r.next_packet(),
            Some(Err(CaptureError::Corrupt { .. }))
        ));
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn truncated_block_after_good_packet() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(epb(0, 1, b"good"));
        let tail = epb(0, 2, b"cut short");
        f.extend(&tail[..tail.len() - 5]);
        let mut r = PcapngReader::new(&f).unwrap();
        assert!(r.next_packet().unwrap().is_ok());
        assert!(matches!(
            r.next_packet(),
            Some(Err(CaptureError::Truncated { .. }))
        ));
    }

    #[test]
    fn binary_resolution() {
        let mut f = shb();
        f.extend(idb(1, Some(0x80 | 10)));
        f.extend(epb(0, 1024 * 3 + 512, b"x"));
        let mut r = PcapngReader::new(&f).unwrap();
        assert_eq!(r.next_packet().unwrap().unwrap().ts, 3_500_000_000);
    }
}
