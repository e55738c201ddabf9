//! The string formats the spec language supports, checked the way JSON Schema validators do.

/// A `format` of a string schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 3339 `date-time`, e.g. `2025-09-15T10:00:00Z`.
    DateTime,
    /// Hyphenated RFC 4122 UUID of any version, either case.
    Uuid,
    /// RFC 3986 URI with a scheme (an absolute URI, a fragment allowed).
    Uri,
}

impl Format {
    /// Every format, so the spec checker offers exactly the ones validated here.
    pub const ALL: [Format; 3] = [Format::DateTime, Format::Uuid, Format::Uri];

    /// The JSON Schema name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DateTime => "date-time",
            Format::Uuid => "uuid",
            Format::Uri => "uri",
        }
    }

    /// What a valid value looks like, for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Format::DateTime => "an RFC 3339 date-time such as 2025-09-15T10:00:00Z",
            Format::Uuid => "a UUID such as 123e4567-e89b-12d3-a456-426614174000",
            Format::Uri => "an absolute URI such as https://example.com/path",
        }
    }

    /// Whether `s` has this format.
    pub fn is_valid(self, s: &str) -> bool {
        match self {
            Format::DateTime => is_date_time(s),
            Format::Uuid => is_uuid(s),
            Format::Uri => is_uri(s),
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `full-date "T" full-time` (RFC 3339 §5.6; `T` and `Z` in either case).
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') {
        return false;
    }
    is_full_date(&b[..10]) && is_full_time(&b[11..])
}

fn is_full_date(b: &[u8]) -> bool {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..10])) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// `HH:MM:SS[.frac](Z|±HH:MM)`. A leap second (`:60`) is only valid at 23:59 UTC.
fn is_full_time(b: &[u8]) -> bool {
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8])) else {
        return false;
    };
    if hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &b[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    // Minutes since midnight in UTC, to place a leap second.
    let local = (hour * 60 + minute) as i32;
    let utc = match rest {
        [b'Z' | b'z'] => local,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let (Some(oh), Some(om)) = (digits(&[*oh1, *oh2]), digits(&[*om1, *om2])) else {
                return false;
            };
            if oh > 23 || om > 59 {
                return false;
            }
            let offset = (oh * 60 + om) as i32;
            if *sign == b'+' { local - offset } else { local + offset }
        }
        _ => return false,
    };
    second != 60 || utc.rem_euclid(24 * 60) == 23 * 60 + 59
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(c: u8) -> bool {
    matches!(c, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
}

/// Every byte is unreserved, a sub-delimiter, one of `extra`, or a valid `%XX` escape.
fn all_chars(b: &[u8], extra: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            let escape_ok = b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !escape_ok {
                return false;
            }
            i += 3;
            continue;
        }
        if !(is_unreserved(c) || is_sub_delim(c) || extra.contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

/// `scheme ":" hier-part [ "?" query ] [ "#" fragment ]` (RFC 3986 §3).
fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(colon) = b.iter().position(|&c| c == b':') else {
        return false;
    };
    let scheme = &b[..colon];
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return false;
    }
    let rest = &b[colon + 1..];
    let (rest, fragment) = match rest.iter().position(|&c| c == b'#') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (hier, query) = match rest.iter().position(|&c| c == b'?') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let tail_ok = |part: Option<&[u8]>| part.is_none_or(|p| all_chars(p, b":@/?"));
    if !tail_ok(query) || !tail_ok(fragment) {
        return false;
    }
    match hier.strip_prefix(b"//") {
        Some(after) => {
            let end = after.iter().position(|&c| c == b'/').unwrap_or(after.len());
            is_authority(&after[..end]) && all_chars(&after[end..], b":@/")
        }
        // path-absolute, path-rootless or path-empty: no "//" start, so no authority.
        None => all_chars(hier, b":@/"),
    }
}

/// `[ userinfo "@" ] host [ ":" port ]`.
fn is_authority(b: &[u8]) -> bool {
    let (userinfo, hostport) = match b.iter().rposition(|&c| c == b'@') {
        Some(i) => (Some(&b[..i]), &b[i + 1..]),
        None => (None, b),
    };
    if userinfo.is_some_and(|u| !all_chars(u, b":")) {
        return false;
    }
    let (host, port) = if hostport.first() == Some(&b'[') {
        let Some(close) = hostport.iter().position(|&c| c == b']') else {
            return false;
        };
        let literal = &hostport[1..close];
        let ok = std::str::from_utf8(literal).is_ok_and(|l| l.parse::<std::net::Ipv6Addr>().is_ok());
        if !ok {
            return false;
        }
        match &hostport[close + 1..] {
            [] => (&hostport[..0], None),
            [b':', port @ ..] => (&hostport[..0], Some(port)),
            _ => return false,
        }
    } else {
        match hostport.iter().rposition(|&c| c == b':') {
            Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
            None => (hostport, None),
        }
    };
    port.is_none_or(|p| p.iter().all(u8::is_ascii_digit)) && all_chars(host, b"")
}
