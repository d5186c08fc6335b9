//! Live capture through libpcap: opening interfaces, reading packets as
//! they arrive, the kernel's drop counters, AF_PACKET fanout groups, and
//! errors a person can act on.
//!
//! A [`LiveHandle`] is one libpcap capture on one interface, non-blocking:
//! [`LiveHandle::next_packet`] returns what is waiting and never sleeps;
//! [`wait`] sleeps on several handles at once. By default the kernel packs
//! packets into the ring's blocks (TPACKET_V3) and hands a block over when
//! it is full or after a short timeout (10 ms): the ring holds as many
//! packets as fit in its bytes. libpcap's immediate mode (timeout 0) falls
//! back to TPACKET_V2, whose fixed-size slots are sized for the largest
//! frame (64 KiB on an interface with receive offloads), so a 16 MiB ring
//! holds 256 packets and overflows under a burst; benches/LIVE.md measures
//! both.
//!
//! A packet is borrowed from libpcap's ring until the next read, so the
//! reader either processes it in place or copies it.
//!
//! **Fanout** (Linux): several handles on one interface join one
//! `PACKET_FANOUT` group and the kernel gives each packet to exactly one of
//! them, chosen by `PACKET_FANOUT_HASH`. That hash is
//! `__skb_get_hash_symmetric()`, computed in software from the flow
//! dissector's keys after ordering the two (address, port) endpoints, so
//! both directions of a connection land on the same handle (not the NIC's
//! RSS hash, which need not be symmetric). `PACKET_FANOUT_FLAG_DEFRAG` has
//! the kernel reassemble IPv4 fragments before hashing, so they follow
//! their flow's ports; sift then sees the whole datagram, and fragments the
//! kernel cannot complete are never delivered. Its limits: the kernel
//! hashes IPv6 fragments by address pair only, so a fragmented IPv6
//! datagram may go to another handle than its flow's other packets; and
//! what the kernel's dissector opens (VLAN tags, IP-in-IP, GRE) is its
//! choice, not sift's. The group id is chosen by the kernel
//! (`PACKET_FANOUT_FLAG_UNIQUEID`), so sift never joins another program's
//! group by accident.
//!
//! Counters: libpcap's are 32-bit and wrap; [`LiveHandle::stats`] keeps
//! 64-bit totals. The interface's own drop counter (`ps_ifdrop`, from
//! sysfs) is per interface, not per handle: sum it once per interface.

#![allow(unsafe_code)] // See the SAFETY comment of each block.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use super::{LinkType, RawPacket, Timestamp, NANOS_PER_SEC};

/// How each handle is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandleConfig {
    /// Bytes kept of each packet.
    pub snaplen: u32,
    /// The kernel ring of each handle, in bytes.
    pub buffer_bytes: u32,
    /// Put the interface in promiscuous mode.
    pub promisc: bool,
    /// The kernel hands packets over in blocks, each when full or after
    /// this many milliseconds (TPACKET_V3); 0: one by one as they come
    /// (libpcap's immediate mode, which uses TPACKET_V2).
    pub block_timeout_ms: u32,
    /// A BPF expression (tcpdump syntax); `None` keeps every packet.
    pub filter: Option<String>,
}

impl Default for HandleConfig {
    fn default() -> Self {
        HandleConfig {
            snaplen: 262_144,
            buffer_bytes: 16 << 20,
            promisc: false,
            block_timeout_ms: 10,
            filter: None,
        }
    }
}

/// Why live capture could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "no such interface: {name} (interfaces here: {})",
        list_or_none(available)
    )]
    NoSuchInterface {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "{iface}: permission denied: capture needs root or the CAP_NET_RAW and \
         CAP_NET_ADMIN capabilities (libpcap: {message})"
    )]
    PermissionDenied { iface: String, message: String },
    #[error("invalid --bpf expression {expr:?}: {message}")]
    InvalidFilter { expr: String, message: String },
    #[error("{iface}: cannot join an AF_PACKET fanout group: {source}")]
    Fanout { iface: String, source: io::Error },
    #[error("{iface}: cannot open for capture: {message}")]
    Open { iface: String, message: String },
    #[error("{iface}: capture failed: {message}")]
    Read { iface: String, message: String },
    #[error("cannot list network interfaces: {0}")]
    List(String),
    #[error("cannot wait for packets: {0}")]
    Wait(io::Error),
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// libpcap's own message, without the crate's "libpcap error: " prefix.
fn pcap_message(e: &::pcap::Error) -> String {
    match e {
        ::pcap::Error::PcapError(m) if !m.is_empty() => m.clone(),
        e => e.to_string(),
    }
}

/// One network interface as libpcap lists it.
#[derive(Clone, Debug)]
pub struct Interface {
    pub name: String,
    pub description: Option<String>,
    /// Each address with its prefix length, when the netmask gives one.
    pub addresses: Vec<(IpAddr, Option<u8>)>,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub wireless: bool,
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flags = Vec::new();
        flags.push(if self.up { "up" } else { "down" });
        if self.running {
            flags.push("running");
        }
        if self.loopback {
            flags.push("loopback");
        }
        if self.wireless {
            flags.push("wireless");
        }
        write!(f, "{:<16} {:<22}", self.name, flags.join(","))?;
        let addrs: Vec<String> = self
            .addresses
            .iter()
            .map(|(a, p)| match p {
                Some(p) => format!("{a}/{p}"),
                None => a.to_string(),
            })
            .collect();
        write!(
            f,
            " {}",
            if addrs.is_empty() {
                "-".to_string()
            } else {
                addrs.join(" ")
            }
        )?;
        if let Some(d) = &self.description {
            write!(f, "  ({d})")?;
        }
        Ok(())
    }
}

/// The prefix length of a netmask made of leading ones.
fn prefix_len(mask: IpAddr) -> Option<u8> {
    let bits: u128 = match mask {
        IpAddr::V4(m) => u128::from(u32::from(m)) << 96,
        IpAddr::V6(m) => u128::from(m),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// The interfaces libpcap can capture on (including pseudo-devices such as
/// `any`).
pub fn interfaces() -> Result<Vec<Interface>, LiveError> {
    let devices = ::pcap::Device::list().map_err(|e| LiveError::List(pcap_message(&e)))?;
    Ok(devices
        .into_iter()
        .map(|d| Interface {
            addresses: d
                .addresses
                .iter()
                .map(|a| (a.addr, a.netmask.and_then(prefix_len)))
                .collect(),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            name: d.name,
            description: d.desc,
        })
        .collect())
}

/// Drop counters of one handle, as 64-bit totals since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandleStats {
    /// Packets the kernel dropped because this handle's ring was full.
    pub dropped: u64,
    /// Packets the interface (driver) dropped: per interface, not per handle.
    pub if_dropped: u64,
}

/// A filter that no packet passes (a packet is at least one byte long):
/// installed while handles join a fanout group, so the ring holds nothing
/// from before the join.
const DROP_ALL: &str = "less 0";

/// One libpcap capture on one interface, non-blocking.
pub struct LiveHandle {
    cap: ::pcap::Capture<::pcap::Active>,
    iface: String,
    link: LinkType,
    /// Timestamp fraction unit in nanoseconds (1 with nanosecond precision,
    /// 1000 with microseconds).
    frac_nanos: u64,
    totals: HandleStats,
    /// libpcap's last 32-bit counter values (drop, ifdrop).
    last: (u32, u32),
    settle: Duration,
}

/// Time for the kernel's block timer and wake-up beyond the block timeout.
const SETTLE_MARGIN_MS: u64 = 5;

// libpcap 1.5 and later; the pcap crate links the library but does not
// export this call.
extern "C" {
    fn pcap_get_tstamp_precision(p: *mut libc::c_void) -> libc::c_int;
}

impl LiveHandle {
    /// Opens `iface` and applies `cfg.filter`. Errors say what to do: a
    /// missing interface lists those that exist; a refusal names the
    /// privileges capture needs.
    pub fn open(iface: &str, cfg: &HandleConfig) -> Result<LiveHandle, LiveError> {
        let mut h = Self::open_unfiltered(iface, cfg)?;
        h.set_filter(cfg.filter.as_deref().unwrap_or(""))?;
        Ok(h)
    }

    fn open_unfiltered(iface: &str, cfg: &HandleConfig) -> Result<LiveHandle, LiveError> {
        let clamp = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let opened = ::pcap::Capture::from_device(iface)
            .and_then(|c| {
                let c = c
                    .promisc(cfg.promisc)
                    .snaplen(clamp(cfg.snaplen))
                    .buffer_size(clamp(cfg.buffer_bytes))
                    .precision(::pcap::Precision::Nano);
                match cfg.block_timeout_ms {
                    0 => c.immediate_mode(true),
                    ms => c.timeout(clamp(ms)),
                }
                .open()
            })
            .and_then(|c| c.setnonblock());
        let cap = match opened {
            Ok(c) => c,
            Err(e) => return Err(open_error(iface, &e)),
        };
        // SAFETY: `cap` owns a live, activated pcap_t for as long as this
        // call lasts; the call only reads a field of it.
        let precision = unsafe { pcap_get_tstamp_precision(cap.as_ptr().cast()) };
        let link = LinkType(u16::try_from(cap.get_datalink().0).unwrap_or(u16::MAX));
        Ok(LiveHandle {
            cap,
            iface: iface.to_string(),
            link,
            frac_nanos: if precision == 1 { 1 } else { 1000 },
            totals: HandleStats::default(),
            last: (0, 0),
            settle: Duration::from_millis(u64::from(cfg.block_timeout_ms) + SETTLE_MARGIN_MS),
        })
    }

    /// Opens `n` handles on `iface` joined to one new fanout group. Until
    /// all have joined, a drop-all filter keeps packets out of their rings,
    /// and whatever slipped in before is drained, so no packet reaches two
    /// handles; then `cfg.filter` is applied.
    pub fn open_fanout(
        iface: &str,
        cfg: &HandleConfig,
        n: usize,
    ) -> Result<Vec<LiveHandle>, LiveError> {
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let mut h = Self::open_unfiltered(iface, cfg)?;
            h.set_filter(DROP_ALL)?;
            handles.push(h);
        }
        let fanout_err = |source| LiveError::Fanout {
            iface: iface.to_string(),
            source,
        };
        if let Some((first, rest)) = handles.split_first() {
            let id = fanout::create(first.fd()).map_err(fanout_err)?;
            for h in rest {
                fanout::join(h.fd(), id).map_err(fanout_err)?;
            }
        }
        // A block being filled when the filter went in is handed over
        // after the block timeout.
        std::thread::sleep(handles.first().map_or(Duration::ZERO, |h| h.settle));
        for h in &mut handles {
            while h.next_packet()?.is_some() {}
            h.set_filter(cfg.filter.as_deref().unwrap_or(""))?;
        }
        Ok(handles)
    }

    fn set_filter(&mut self, expr: &str) -> Result<(), LiveError> {
        self.cap
            .filter(expr, true)
            .map_err(|e| LiveError::InvalidFilter {
                expr: expr.to_string(),
                message: pcap_message(&e),
            })
    }

    /// How long after its last packet arrived the handle may still be
    /// holding it (the block timeout and a margin).
    pub fn settle(&self) -> Duration {
        self.settle
    }

    pub fn iface(&self) -> &str {
        &self.iface
    }

    pub fn link(&self) -> LinkType {
        self.link
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> RawFd {
        self.cap.as_raw_fd()
    }

    /// The next packet waiting, if any; never blocks. The packet borrows
    /// libpcap's buffer until the next call.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError> {
        match self.cap.next_packet() {
            Ok(p) => {
                let ts = &p.header.ts;
                let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
                let frac = u64::try_from(ts.tv_usec).unwrap_or(0);
                let ts: Timestamp = secs
                    .saturating_mul(NANOS_PER_SEC)
                    .saturating_add(frac.saturating_mul(self.frac_nanos));
                Ok(Some(RawPacket {
                    ts,
                    link: self.link,
                    data: p.data,
                    wire_len: p.header.len,
                }))
            }
            Err(::pcap::Error::TimeoutExpired) => Ok(None),
            Err(e) => Err(LiveError::Read {
                iface: self.iface.clone(),
                message: pcap_message(&e),
            }),
        }
    }

    /// Drop counters since the handle was opened.
    pub fn stats(&mut self) -> Result<HandleStats, LiveError> {
        let s = self.cap.stats().map_err(|e| LiveError::Read {
            iface: self.iface.clone(),
            message: pcap_message(&e),
        })?;
        self.totals.dropped += u64::from(s.dropped.wrapping_sub(self.last.0));
        self.totals.if_dropped += u64::from(s.if_dropped.wrapping_sub(self.last.1));
        self.last = (s.dropped, s.if_dropped);
        Ok(self.totals)
    }
}

/// Maps a failure to open `iface` to what the user must do about it.
fn open_error(iface: &str, e: &::pcap::Error) -> LiveError {
    let message = pcap_message(e);
    if let Ok(list) = ::pcap::Device::list() {
        if !list.iter().any(|d| d.name == iface) {
            return LiveError::NoSuchInterface {
                name: iface.to_string(),
                available: list.into_iter().map(|d| d.name).collect(),
            };
        }
    }
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission") || lower.contains("operation not permitted") {
        return LiveError::PermissionDenied {
            iface: iface.to_string(),
            message,
        };
    }
    LiveError::Open {
        iface: iface.to_string(),
        message,
    }
}

/// Waits until one of `fds` is readable or `timeout` passes. An interrupted
/// wait (a signal) counts as a timeout.
pub fn wait(fds: &[RawFd], timeout: Duration) -> Result<(), LiveError> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structs that
    // lives across the call.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(LiveError::Wait(e));
        }
    }
    Ok(())
}

/// PACKET_FANOUT on the sockets libpcap opened (Linux only).
mod fanout {
    use std::io;
    use std::os::fd::RawFd;

    #[cfg(target_os = "linux")]
    const MODE: u32 = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG;

    #[cfg(target_os = "linux")]
    fn set(fd: RawFd, arg: u32) -> io::Result<()> {
        // SAFETY: `arg` is a u32 that lives across the call and its size is
        // passed; the kernel only reads it.
        let r = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_FANOUT,
                std::ptr::from_ref(&arg).cast(),
                std::mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Starts a new group with a kernel-chosen id, `fd` its first member;
    /// returns the id.
    #[cfg(target_os = "linux")]
    pub fn create(fd: RawFd) -> io::Result<u16> {
        set(fd, (MODE | libc::PACKET_FANOUT_FLAG_UNIQUEID) << 16)?;
        let mut val: u32 = 0;
        let mut len = std::mem::size_of::<u32>() as libc::socklen_t;
        // SAFETY: `val` and `len` live across the call; `len` says how many
        // bytes `val` holds.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_FANOUT,
                std::ptr::from_mut(&mut val).cast(),
                &mut len,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // The group id is in the low 16 bits, its type and flags above.
        Ok((val & 0xffff) as u16)
    }

    #[cfg(target_os = "linux")]
    pub fn join(fd: RawFd, id: u16) -> io::Result<()> {
        set(fd, (MODE << 16) | u32::from(id))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn create(_fd: RawFd) -> io::Result<u16> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "AF_PACKET fanout exists only on Linux",
        ))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn join(_fd: RawFd, _id: u16) -> io::Result<()> {
        create(_fd).map(|_| ())
    }
}

/// Resident memory of this process in bytes (Linux: /proc/self/statm).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(prefix_len("255.255.255.255".parse().unwrap()), Some(32));
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), Some(0));
        assert_eq!(prefix_len("255.0.255.0".parse().unwrap()), None);
        assert_eq!(
            prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()),
            Some(64)
        );
    }

    #[test]
    fn interface_line() {
        let i = Interface {
            name: "eth0".into(),
            description: None,
            addresses: vec![("10.0.0.5".parse().unwrap(), Some(24))],
            up: true,
            running: true,
            loopback: false,
            wireless: false,
        };
        let s = i.to_string();
        assert!(s.starts_with("eth0 "), "{s}");
        assert!(s.contains("up,running"), "{s}");
        assert!(s.ends_with("10.0.0.5/24"), "{s}");
    }

    #[test]
    fn missing_interface_lists_the_others() {
        let e = open_error("no-such-if0", &::pcap::Error::PcapError("x".into()));
        match e {
            LiveError::NoSuchInterface { name, available } => {
                assert_eq!(name, "no-such-if0");
                assert!(available.iter().any(|n| n == "lo" || n == "any"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes().is_some_and(|b| b > 0));
    }
}
