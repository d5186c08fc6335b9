//! Timestamps as EVE writes them: `2024-05-01T12:34:56.123456+0000` (UTC).

use crate::capture::{Timestamp, NANOS_PER_SEC};

/// Formats packet time as Suricata's EVE does (microseconds, UTC offset).
pub fn eve_timestamp(ts: Timestamp) -> String {
    let secs = ts / NANOS_PER_SEC;
    let micros = (ts % NANOS_PER_SEC) / 1_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+0000",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
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
    }
}
