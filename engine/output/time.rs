//! Timestamps as EVE writes them: `2024-05-01T12:34:56.123456+0000` (UTC).

use std::cell::Cell;

use crate::capture::{Timestamp, NANOS_PER_SEC};

/// Packet time as Suricata's EVE writes it (microseconds, UTC offset),
/// as text written without allocating (a flow record has three).
#[derive(Clone, Copy)]
pub struct EveTime([u8; 31]);

impl EveTime {
    pub fn new(ts: Timestamp) -> Self {
        let secs = ts / NANOS_PER_SEC;
        let micros = (ts % NANOS_PER_SEC) / 1_000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let mut b = *b"0000-00-00T00:00:00.000000+0000";
        b[..10].copy_from_slice(&date(days));
        pair(&mut b, 11, rem / 3600);
        pair(&mut b, 14, (rem / 60) % 60);
        pair(&mut b, 17, rem % 60);
        pair(&mut b, 20, micros / 10_000);
        pair(&mut b, 22, (micros / 100) % 100);
        pair(&mut b, 24, micros % 100);
        EveTime(b)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }

    /// The text's bytes (ASCII).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

thread_local! {
    /// The day [`date`] last wrote, and its text.
    static LAST_DATE: Cell<(u64, [u8; 10])> = const { Cell::new((u64::MAX, [0; 10])) };
}

/// `YYYY-MM-DD` of the day `days` after 1970-01-01. The last day written
/// is remembered (per thread): a record's three timestamps, and the
/// records after it, fall mostly on one day, and the calendar's divisions
/// were a JSON run's largest single cost after the fingerprints.
fn date(days: u64) -> [u8; 10] {
    LAST_DATE.with(|last| {
        let (day, text) = last.get();
        if day == days {
            return text;
        }
        let text = date_text(days);
        last.set((days, text));
        text
    })
}

/// [`date`] computed.
fn date_text(days: u64) -> [u8; 10] {
    let (y, m, d) = civil_from_days(days as i64);
    let mut text = *b"0000-00-00";
    let y = y.clamp(0, 9999) as u64;
    pair(&mut text, 0, y / 100);
    pair(&mut text, 2, y % 100);
    pair(&mut text, 5, u64::from(m));
    pair(&mut text, 8, u64::from(d));
    text
}

/// Writes `v` (below 100) as two digits at `at`.
#[inline]
fn pair<const N: usize>(out: &mut [u8; N], at: usize, v: u64) {
    let i = v as usize * 2;
    out[at..at + 2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// `00` to `99`, two bytes each.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

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

    /// The remembered day never stands for another: days asked in an
    /// order that returns to earlier ones, every day a timestamp can
    /// hold, each checked against the calendar computed afresh.
    #[test]
    fn remembered_dates_are_the_days_asked() {
        let last = u64::MAX / NANOS_PER_SEC / 86_400;
        let mut days: Vec<u64> = (0..=last).collect();
        days.extend((0..=last).rev().step_by(7));
        days.extend([0, 0, 1, 0, last, last, 11_016, 11_016, 11_017]);
        for d in days {
            let (y, m, dd) = civil_from_days(d as i64);
            assert_eq!(
                std::str::from_utf8(&date(d)).unwrap(),
                format!("{y:04}-{m:02}-{dd:02}"),
                "day {d}"
            );
        }
    }
}
