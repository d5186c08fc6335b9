//! Timestamps as EVE writes them: `2024-05-01T12:34:56.123456+0000` (UTC).

use crate::capture::{Timestamp, NANOS_PER_SEC};

/// Packet time as Suricata's EVE writes it (microseconds, UTC offset),
/// as text written without allocating (a flow record has three).
#[derive(Clone, Copy)]
pub struct EveTime([u8; 31]);

impl EveTime {
    pub fn new(ts: Timestamp) -> Self {
        let secs = ts / NANOS_PER_SEC;
        let micros = (ts % NANOS_PER_SEC) / 1_000;
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        let mut b = *b"0000-00-00T00:00:00.000000+0000";
        digits(&mut b[0..4], y.clamp(0, 9999) as u64);
        digits(&mut b[5..7], u64::from(m));
        digits(&mut b[8..10], u64::from(d));
        digits(&mut b[11..13], rem / 3600);
        digits(&mut b[14..16], (rem / 60) % 60);
        digits(&mut b[17..19], rem % 60);
        digits(&mut b[20..26], micros);
        EveTime(b)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }
}

/// Writes `v` as decimal digits filling `out` (zero-padded on the left).
fn digits(out: &mut [u8], mut v: u64) {
    for c in out.iter_mut().rev() {
        *c = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eve_timestamp(ts: Timestamp) -> String {
        EveTime::new(ts).as_str().to_string()
    }

    #[test]
    fn known_instants() {
        assert_eq!(eve_timestamp(0), "1970-01-01T00:00:00.000000+0000");
        // 2009-11-24T21:13:49.016587 UTC, a Suricata documentation example.
        assert_eq!(
            eve_timestamp(1_259_097_229_016_587_000),
            "2009-11-24T21:13:49.016587+0000"
        );
        assert_eq!(
            eve_timestamp(951_782_400 * NANOS_PER_SEC),
            "2000-02-29T00:00:00.000000+0000"
        );
        // The last instant a u64 of nanoseconds holds.
        assert_eq!(eve_timestamp(u64::MAX), "2554-07-21T23:34:33.709551+0000");
    }
}
