//! Durations as people write them in flags and config: `60s`, `500ms`, `2m`, `1h30m`,
//! or seconds, read by jiff's friendly format.

use std::time::Duration;

/// The longest duration skein takes: a day is longer than any wait or step a deploy job
/// should sit through, and keeps every server's and library's timer in range.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// More than this many of any unit (the smallest is the nanosecond) is more than a day.
const NANOSECONDS_IN_A_DAY: f64 = 86_400e9;

/// Parses `500ms`, `30s`, `2m`, `1h30m` (jiff's friendly format; ISO 8601 `PT1H30M`
/// too) or a bare number of seconds, up to [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let signed = match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            jiff::SignedDuration::try_from_secs_f64(seconds)
                .map_err(|_| format!("`{text}` is too long: at most 24h"))?
        }
        Ok(_) => return Err(format!("`{text}` is not a duration")),
        Err(_) => text.parse::<jiff::SignedDuration>().map_err(|_| {
            // A number too big for jiff is longer than a day in any unit.
            let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
            if digits
                .parse::<f64>()
                .is_ok_and(|n| n > NANOSECONDS_IN_A_DAY)
            {
                format!("`{text}` is too long: at most 24h")
            } else {
                format!("`{text}` is not a duration (e.g. 30s, 500ms, 2m, 1h30m)")
            }
        })?,
    };
    if signed.is_negative() {
        return Err(format!("`{text}` is not a duration: it is negative"));
    }
    match Duration::try_from(signed) {
        Ok(duration) if duration <= MAX_DURATION => Ok(duration),
        _ => Err(format!("`{text}` is too long: at most 24h")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90 secs"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("PT2M"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_duration("24h"), Ok(MAX_DURATION));
        for huge in [
            "24.01h",
            "99999999999999999s",
            "18446744073709551615s",
            "1e400s",
        ] {
            assert!(parse_duration(huge).is_err(), "{huge}");
        }
    }
}
