//! A memory limit shared out between the structures that grow with the
//! traffic: the flow table, TCP reassembly's out-of-order buffers and IP
//! fragment reassembly.
//!
//! Everything else sift holds is small and fixed (per-thread buffers, the
//! rule set — whose size the rule files decide, not the traffic). Of the
//! limit, [`FLOW_SHARE`] goes to flows, at [`FLOW_BYTES`] each,
//! [`REASSEMBLY_SHARE`] to TCP reassembly and [`FRAGMENT_SHARE`] to
//! fragments; each is also capped by its own default, so a large limit does
//! not make buffers larger than useful. When the limit gives fewer flows
//! than `--max-flows`, the table is that much smaller and the least recently
//! active flows are evicted (reason `forced`, counted) when it is full.

/// What one flow costs, at most, while it is held: its table slot and index
/// entry, its classification state (a copy of a first datagram, or the TCP
/// streams' bookkeeping), and its record when it ends. Measured with
/// `/usr/bin/time -v` on floods of one-packet flows (TCP SYNs, 300-byte UDP
/// datagrams, IPv6 UDP), 100,000 against 400,000 flows: 1.15 KB (TCP) to
/// 1.3 KB (UDP) per flow, with room for growth of the table's vectors.
pub const FLOW_BYTES: u64 = 1536;

/// Shares of the limit.
pub const FLOW_SHARE: f64 = 0.60;
pub const REASSEMBLY_SHARE: f64 = 0.15;
pub const FRAGMENT_SHARE: f64 = 0.10;

/// Caps whatever the limit: the defaults these buffers had before a limit
/// existed, enough for any traffic sift was measured on.
pub const REASSEMBLY_MAX: u64 = 64 << 20;
pub const FRAGMENT_MAX: u64 = 32 << 20;

/// The smallest limit taken.
pub const MIN_LIMIT: u64 = 64 << 20;

/// How a memory limit is shared out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
    /// The limit, in bytes.
    pub limit: u64,
    /// Flows held at once, over all workers.
    pub flows: usize,
    /// `--max-flows` asked for more flows than the limit allows.
    pub flows_capped: bool,
    /// Out-of-order TCP bytes held, over all workers.
    pub reassembly: usize,
    /// Fragment bytes held, over all workers.
    pub fragments: usize,
}

impl MemoryPlan {
    /// The plan for `limit` bytes (at least [`MIN_LIMIT`]) and at most
    /// `max_flows` flows.
    pub fn new(limit: u64, max_flows: usize) -> Self {
        let limit = limit.max(MIN_LIMIT);
        let share = |f: f64| (limit as f64 * f) as u64;
        let by_limit = usize::try_from(share(FLOW_SHARE) / FLOW_BYTES).unwrap_or(usize::MAX);
        MemoryPlan {
            limit,
            flows: max_flows.min(by_limit).max(1),
            flows_capped: by_limit < max_flows,
            reassembly: share(REASSEMBLY_SHARE).min(REASSEMBLY_MAX) as usize,
            fragments: share(FRAGMENT_SHARE).min(FRAGMENT_MAX) as usize,
        }
    }

    /// The default limit: a quarter of the machine's memory (from
    /// `/proc/meminfo`), or 4 GiB where that cannot be read.
    pub fn default_limit() -> u64 {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kb| kb * 1024);
        total.map_or(4 << 30, |t| t / 4)
    }
}

/// Parses a size: a number of bytes, or with a suffix K, M, G or T (powers
/// of 1024; `KiB`, `MB`, ... are read the same way).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (expected e.g. 512M, 2G, 1048576)"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (K, M, G or T)")),
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("{s:?} is not a positive size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64kb"), Ok(64 << 10));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn plan_shares_the_limit() {
        let p = MemoryPlan::new(512 << 20, 1 << 20);
        assert_eq!(p.flows, (512 << 20) * 6 / 10 / FLOW_BYTES as usize);
        assert!(p.flows_capped);
        assert_eq!(
            p.reassembly,
            (REASSEMBLY_MAX as usize).min((512 << 20) * 15 / 100)
        );
        let big = MemoryPlan::new(64 << 30, 1 << 20);
        assert_eq!((big.flows, big.flows_capped), (1 << 20, false));
        assert_eq!(big.reassembly, REASSEMBLY_MAX as usize);
        assert_eq!(big.fragments, FRAGMENT_MAX as usize);
        assert!(MemoryPlan::default_limit() >= MIN_LIMIT);
    }
}
