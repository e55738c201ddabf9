//! Time on the wire: milliseconds since the Unix epoch and their one text form, RFC 3339 UTC
//! with milliseconds (`2025-09-15T10:00:00.000Z`).

/// Milliseconds since the Unix epoch, from this machine's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 UTC with milliseconds (`2025-09-15T10:00:00.000Z`), the one timestamp format of the
/// wire. Written by hand (days-from-civil inverse) to avoid a date crate for one function.
pub fn iso_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (h, m, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// The inverse of [`iso_millis`] for UTC timestamps (`YYYY-MM-DDTHH:MM:SS[.fff]Z`); `None` for
/// anything else, and for anything the wire's `date-time` format refuses (Feb 30, hour 24…), so
/// "a valid timestamp" means one thing everywhere.
pub fn parse_iso_millis(s: &str) -> Option<i64> {
    if !crate::validation::Format::DateTime.is_valid(s) {
        return None;
    }
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<i64>().ok());
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &s[19..];
    let (frac, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            (&r[..digits], &r[digits..])
        }
        None => ("", rest),
    };
    if !matches!(zone, "Z" | "z") || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let millis = format!("{frac:0<3}").get(..3).and_then(|m| m.parse::<i64>().ok()).unwrap_or(0);
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) * 1000) + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_iso_millis_inverts_iso_millis() {
        for ms in [0, 1, 999, 1_757_930_400_123, 951_782_400_000, -86_400_000] {
            assert_eq!(parse_iso_millis(&iso_millis(ms)), Some(ms), "{}", iso_millis(ms));
        }
        assert_eq!(parse_iso_millis("2025-09-15T10:00:00Z"), Some(1_757_930_400_000));
        assert_eq!(parse_iso_millis("2025-09-15 10:00:00"), None);
        assert_eq!(parse_iso_millis("2025-02-30T10:00:00Z"), None, "no Feb 30, as the date-time format says");
        assert_eq!(parse_iso_millis("2025-04-31T10:00:00.000Z"), None);
    }

    #[test]
    fn iso_millis_formats_utc_with_milliseconds() {
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_millis(1_757_930_400_000), "2025-09-15T10:00:00.000Z");
        assert_eq!(iso_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_millis(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
