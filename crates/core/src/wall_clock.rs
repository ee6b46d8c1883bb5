//! Wall-clock instants as RFC 3339 text, and the wait until one.
//!
//! Run records time everything on a per-process monotonic clock; the wall
//! clock only anchors a run in the world: when it started (`run.json`), and
//! the instant shards agree to start their load at (`bench --start-at`).
//! Written here without a date library: UTC, proleptic Gregorian calendar.

use crate::setting::Setting;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How late `--start-at` may be when a shard is ready, and still be honoured
/// (the load then starts at once): pods that start a moment late are fine,
/// an instant that passed long ago is a mistake.
pub const START_TOLERANCE: Duration = Duration::from_secs(2);

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds).
pub fn format(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Parses an RFC 3339 date-time: `2026-12-06T08:00:00Z`,
/// `2026-12-06T09:00:00.5+01:00` (a space or `t` may stand for `T`, `z`
/// for `Z`). The error says what is wrong and shows the form.
pub fn parse(text: &str) -> Result<SystemTime, String> {
    let s = text.trim();
    let bad = |why: &str| {
        format!("'{text}' is not an RFC 3339 time ({why}): write e.g. 2026-12-06T08:00:00Z or 2026-12-06T09:00:00+01:00")
    };
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return Err(bad("too short"));
    }
    let num = |range: std::ops::Range<usize>| -> Result<u32, String> {
        let part = &s[range];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad("not a number"))
        } else {
            Err(bad("digits expected"))
        }
    };
    if b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad("expected 'T' between date and time"));
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(bad("no such date"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("no such time of day"));
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("digits expected after '.'"));
        }
        // Nanoseconds from the first nine digits; finer ones are dropped.
        for (k, c) in frac.bytes().take(9).take(digits).enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - k as u32);
        }
        rest = &frac[digits..];
    }
    let offset_s: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let o = rest.as_bytes();
            if o.len() != 6 || !matches!(o[0], b'+' | b'-') || o[3] != b':' {
                return Err(bad("expected Z or an offset like +01:00 at the end"));
            }
            let parse = |r: std::ops::Range<usize>| -> Result<i64, String> {
                rest[r]
                    .parse::<u8>()
                    .map(i64::from)
                    .map_err(|_| bad("bad offset"))
            };
            let (h, m) = (parse(1..3)?, parse(4..6)?);
            if h > 23 || m > 59 {
                return Err(bad("bad offset"));
            }
            let sign = if o[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_s;
    let secs = u64::try_from(secs).map_err(|_| bad("before 1970"))?;
    Ok(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// How long to wait from `now` until `start`: zero when `start` passed by no
/// more than [`START_TOLERANCE`]; an error when it passed longer ago.
pub fn wait_until(start: SystemTime, now: SystemTime) -> Result<Duration, String> {
    match start.duration_since(now) {
        Ok(wait) => Ok(wait),
        Err(e) if e.duration() <= START_TOLERANCE => Ok(Duration::ZERO),
        Err(e) => Err(format!(
            "{} {} was {:.1} s ago: give an instant far enough ahead that every shard is ready by then (e.g. a minute from now)",
            Setting::StartAt,
            format(start),
            e.duration().as_secs_f64()
        )),
    }
}

/// Signed seconds from `a` to `b` (negative when `b` is earlier).
pub fn seconds_between(a: SystemTime, b: SystemTime) -> f64 {
    match b.duration_since(a) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Parses an HTTP-date in its preferred form (RFC 9110's IMF-fixdate,
/// `Sun, 06 Nov 1994 08:49:37 GMT`), as `Retry-After` may carry it; `None`
/// for anything else (the obsolete forms are not sent by today's servers).
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    let mut parts = text.trim().split(' ');
    let _weekday = parts.next()?.strip_suffix(',')?;
    let day: u32 = parts.next().filter(|d| d.len() == 2)?.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year: u32 = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|n| n.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    if year < 1970 || day == 0 || day > days_in_month(year, month) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(i64::from(year), month, day)).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A proleptic Gregorian date to days since 1970-01-01 (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, millis * 1_000_000)
    }

    #[test]
    fn parses_http_dates_and_refuses_other_text() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(format(t), "1994-11-06T08:49:37.000Z");
        let leap = parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT").unwrap();
        assert_eq!(format(leap), "2024-02-29T23:59:59.000Z");
        for bad in [
            "",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 30 Feb 2023 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 99999999999 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_known_dates() {
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(at(1_795_586_952, 250)), "2026-11-25T06:09:12.250Z");
        assert_eq!(format(at(1_709_208_000, 0)), "2024-02-29T12:00:00.000Z");
    }

    #[test]
    fn parses_what_it_formats_and_offsets() {
        for t in [UNIX_EPOCH, at(1_795_586_952, 250), at(1_709_208_000, 999)] {
            assert_eq!(parse(&format(t)), Ok(t));
        }
        let utc = parse("2026-11-25T06:09:12Z").unwrap();
        assert_eq!(utc, at(1_795_586_952, 0));
        assert_eq!(parse("2026-11-25T07:39:12+01:30"), Ok(utc));
        assert_eq!(parse("2026-11-25 01:09:12-05:00"), Ok(utc));
        assert_eq!(parse("2026-11-25t06:09:12.5z"), Ok(at(1_795_586_952, 500)));
        assert_eq!(
            parse("2026-11-25T06:09:12.1234567891Z"),
            Ok(UNIX_EPOCH + Duration::new(1_795_586_952, 123_456_789))
        );
    }

    #[test]
    fn refuses_malformed_times_with_the_form_to_write() {
        for bad in [
            "",
            "tomorrow",
            "2026-11-25",
            "2026-11-25T06:09:12",
            "2026-11-25T06:09:12+0100",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-25T24:00:00Z",
            "2026-11-25T06:09:12.Z",
            "2026-11-25T06:09:12Zjunk",
            "1969-12-31T23:59:59Z",
            "２０２６-11-25T06:09:12Z",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.contains("RFC 3339") && e.contains("2026-12-06T08:00:00Z"),
                "{bad}: {e}"
            );
        }
        assert!(parse("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn waits_until_the_instant_and_refuses_one_long_past() {
        let now = at(1000, 0);
        assert_eq!(
            wait_until(at(1003, 500), now),
            Ok(Duration::from_millis(3500))
        );
        assert_eq!(wait_until(at(999, 0), now), Ok(Duration::ZERO));
        let e = wait_until(at(900, 0), now).unwrap_err();
        assert!(e.contains("100.0 s ago") && e.contains("ahead"), "{e}");
        assert_eq!(seconds_between(at(10, 0), at(12, 500)), 2.5);
        assert_eq!(seconds_between(at(12, 500), at(10, 0)), -2.5);
    }
}
