//! Classic libpcap file format (`.pcap`): microsecond and nanosecond
//! variants, either byte order, and the modified ("Kuznetzov") variant with
//! its 8 extra bytes per record header.
//!
//! The 24-byte file header carries the link type for every record. A record
//! whose captured length exceeds [`MAX_RECORD`] is taken as corruption and
//! ends the file (libpcap draws the same line), since reading past it would
//! only yield garbage.

use super::{CaptureError, LinkType, RawPacket, Timestamp, NANOS_PER_SEC};

/// Largest captured length accepted for one record (libpcap's own limit).
pub const MAX_RECORD: u32 = 262_144;

const FILE_HEADER: usize = 24;

/// How far ahead of the current record to prefetch, in bytes.
const PREFETCH_DISTANCE: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    Micro,
    Nano,
}

/// Reader over a whole classic pcap file held in memory.
pub struct PcapReader<'a> {
    data: &'a [u8],
    pos: usize,
    big_endian: bool,
    resolution: Resolution,
    record_header: usize,
    link: LinkType,
    done: bool,
    /// Why reading stopped early, until taken ([`PcapReader::take_error`]).
    error: Option<CaptureError>,
}

impl<'a> PcapReader<'a> {
    /// True when `data` starts with one of the pcap magic numbers.
    pub fn sniff(data: &[u8]) -> bool {
        data.len() >= 4 && Self::magic(&data[..4]).is_some()
    }

    fn magic(m: &[u8]) -> Option<(bool, Resolution, usize)> {
        // (big endian, resolution, record header length)
        match m {
            [0xd4, 0xc3, 0xb2, 0xa1] => Some((false, Resolution::Micro, 16)),
            [0xa1, 0xb2, 0xc3, 0xd4] => Some((true, Resolution::Micro, 16)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some((false, Resolution::Nano, 16)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some((true, Resolution::Nano, 16)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some((false, Resolution::Micro, 24)),
            [0xa1, 0xb2, 0xcd, 0x34] => Some((true, Resolution::Micro, 24)),
            _ => None,
        }
    }

    pub fn new(data: &'a [u8]) -> Result<Self, CaptureError> {
        if data.len() < FILE_HEADER {
            return Err(CaptureError::TooShort(data.len()));
        }
        let (big_endian, resolution, record_header) =
            Self::magic(&data[..4]).ok_or_else(|| CaptureError::NotACapture(data[..4].to_vec()))?;
        let mut r = PcapReader {
            data,
            pos: FILE_HEADER,
            big_endian,
            resolution,
            record_header,
            link: LinkType(0),
            done: false,
            error: None,
        };
        // The link-type field's upper bits carry FCS information; the type
        // itself is the low 16 bits.
        r.link = LinkType((r.u32_at(20) & 0xffff) as u16);
        Ok(r)
    }

    pub fn link_type(&self) -> LinkType {
        self.link
    }

    #[inline(always)]
    fn u32_at(&self, at: usize) -> u32 {
        let b = [
            self.data[at],
            self.data[at + 1],
            self.data[at + 2],
            self.data[at + 3],
        ];
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The next record, or its error.
    pub fn next_packet(&mut self) -> Option<Result<RawPacket<'a>, CaptureError>> {
        match self.next_record() {
            Some(p) => Some(Ok(p)),
            None => self.take_error().map(Err),
        }
    }

    /// Why the last [`next_record`](Self::next_record) found none: the
    /// file's error, or None at its end.
    pub fn take_error(&mut self) -> Option<CaptureError> {
        self.error.take()
    }

    /// The next record; None at the end or at an error, which
    /// [`take_error`](Self::take_error) then gives. Inlined into the
    /// reading loop: called out of line, the two-thread lead spent most of
    /// its reading time on loading the returned record back from the stack
    /// (perf); inlined, half as much (benches/HISTORY.md). Errors are built
    /// out of line and kept aside, so that only the record comes back (with
    /// an error beside it, the loop still copied each record through the
    /// stack).
    #[inline(always)]
    pub fn next_record(&mut self) -> Option<RawPacket<'a>> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        if self.data.len() - at < self.record_header {
            self.stop_short("record header", at, self.record_header);
            return None;
        }
        // The four fields every record header starts with, read at once
        // (a header is at least 16 bytes, checked above).
        let Some(head) = crate::bytes::array::<16>(self.data, at) else {
            self.stop_short("record header", at, 16);
            return None;
        };
        let field = |i: usize| {
            let b = [head[i], head[i + 1], head[i + 2], head[i + 3]];
            if self.big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let secs = u64::from(field(0));
        let frac = u64::from(field(4));
        let caplen = field(8);
        let wire_len = field(12);
        if caplen > MAX_RECORD {
            self.stop_corrupt(at, caplen);
            return None;
        }
        let start = at + self.record_header;
        let end = start + caplen as usize;
        if end > self.data.len() {
            self.stop_short("record data", start, caplen as usize);
            return None;
        }
        self.pos = end;
        // Load what lies a few records ahead while this one is used.
        crate::prefetch::bytes(self.data, end + PREFETCH_DISTANCE, end - at);
        let ts: Timestamp = match self.resolution {
            Resolution::Micro => secs * NANOS_PER_SEC + frac.min(999_999) * 1_000,
            Resolution::Nano => secs * NANOS_PER_SEC + frac.min(999_999_999),
        };
        Some(RawPacket {
            ts,
            link: self.link,
            data: &self.data[start..end],
            wire_len: wire_len.max(caplen),
        })
    }

    /// The file ends inside `what` at `offset`, `needed` bytes wanted.
    #[cold]
    #[inline(never)]
    fn stop_short(&mut self, what: &'static str, offset: usize, needed: usize) {
        self.done = true;
        self.error = Some(CaptureError::Truncated {
            what,
            offset: offset as u64,
            needed: needed as u64,
            available: (self.data.len() - offset) as u64,
        });
    }

    #[cold]
    #[inline(never)]
    fn stop_corrupt(&mut self, offset: usize, caplen: u32) {
        self.done = true;
        self.error = Some(CaptureError::Corrupt {
            what: format!("record claims {caplen} captured bytes (limit {MAX_RECORD})"),
            offset: offset as u64,
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a little-endian microsecond pcap from (seconds, micros, bytes).
    pub(crate) fn build(link: u16, packets: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&u32::from(link).to_le_bytes());
        for (s, us, data) in packets {
            v.extend_from_slice(&s.to_le_bytes());
            v.extend_from_slice(&us.to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
        }
        v
    }

    #[test]
    fn reads_records_and_timestamps() {
        let file = build(1, &[(10, 5, b"abc"), (11, 999_999, b"de")]);
        let mut r = PcapReader::new(&file).unwrap();
        assert_eq!(r.link_type(), LinkType::ETHERNET);
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!((p.ts, p.data, p.wire_len), (10_000_005_000, &b"abc"[..], 3));
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.ts, 11_999_999_000);
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn truncated_record_is_reported_after_good_ones() {
        let mut file = build(1, &[(1, 0, b"abcd"), (2, 0, b"efgh")]);
        file.truncate(file.len() - 2);
        let mut r = PcapReader::new(&file).unwrap();
        assert!(r.next_packet().unwrap().is_ok());
        let err = r.next_packet().unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                CaptureError::Truncated {
                    needed: 4,
                    available: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn nanosecond_big_endian() {
        let mut v = vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_be_bytes());
        v.extend_from_slice(&101u32.to_be_bytes());
        v.extend_from_slice(&7u32.to_be_bytes());
        v.extend_from_slice(&123_456_789u32.to_be_bytes());
        v.extend_from_slice(&1u32.to_be_bytes());
        v.extend_from_slice(&60u32.to_be_bytes());
        v.push(0x45);
        let mut r = PcapReader::new(&v).unwrap();
        assert_eq!(r.link_type(), LinkType::RAW);
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.ts, 7_123_456_789);
        assert_eq!(p.wire_len, 60);
        assert!(p.is_truncated());
    }

    #[test]
    fn absurd_caplen_is_corruption() {
        let mut file = build(1, &[(1, 0, b"ab")]);
        file[24 + 8..24 + 12].copy_from_slice(&(MAX_RECORD + 1).to_le_bytes());
        let mut r = PcapReader::new(&file).unwrap();
        assert!(matches!(
            r.next_packet(),
            Some(Err(CaptureError::Corrupt { .. }))
        ));
    }
}
