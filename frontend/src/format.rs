//! How times and streams read in the console: "3 hours ago", and when a stream last changed.

use tagstream_shared::{ImageStream, Time};

/// `then` relative to `now` in words: "just now", "5 minutes ago", "in 2 hours".
pub fn relative(then: Time, now: Time) -> String {
    let seconds = now.timestamp() - then.timestamp();
    let (amount, ago) = (seconds.unsigned_abs(), seconds >= 0);
    if amount < 60 {
        return "just now".to_owned();
    }
    const UNITS: [(u64, &str); 5] = [
        (60, "minute"),
        (60 * 60, "hour"),
        (24 * 60 * 60, "day"),
        (30 * 24 * 60 * 60, "month"),
        (365 * 24 * 60 * 60, "year"),
    ];
    let (size, unit) = UNITS
        .iter()
        .rev()
        .find(|(size, _)| amount >= *size)
        .copied()
        .unwrap_or(UNITS[0]);
    let n = amount / size;
    let plural = if n == 1 { "" } else { "s" };
    match ago {
        true => format!("{n} {unit}{plural} ago"),
        false => format!("in {n} {unit}{plural}"),
    }
}

/// A size in bytes as registries show it: `512 B`, `3.4 kB`, `27.1 MB` (powers of 1000).
pub fn size(bytes: u64) -> String {
    // Integer arithmetic only: formatting floats would pull float printing into the wasm.
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut scale = 1u64;
    let mut unit = 0;
    while bytes / scale >= 1000 && unit < UNITS.len() - 1 {
        scale *= 1000;
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    let tenths = (bytes * 10 + scale / 2) / scale;
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// When the stream last changed: its newest tag event, or its creation.
pub fn last_updated(stream: &ImageStream) -> Option<Time> {
    stream
        .status
        .tags
        .iter()
        .filter_map(|t| t.current().map(|e| e.created))
        .max()
        .or(stream.metadata.creation_timestamp)
}

/// The browser's current time.
pub fn now() -> Time {
    Time::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time::from_timestamp(1_700_000_000 + secs)
    }

    #[test]
    fn sizes_read_like_a_registry() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(999), "999 B");
        assert_eq!(size(1_000), "1.0 kB");
        assert_eq!(size(27_123_456), "27.1 MB");
        assert_eq!(size(3_500_000_000), "3.5 GB");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = at(0);
        assert_eq!(relative(at(-5), now), "just now");
        assert_eq!(relative(at(-60), now), "1 minute ago");
        assert_eq!(relative(at(-3 * 3600 - 100), now), "3 hours ago");
        assert_eq!(relative(at(-86_400), now), "1 day ago");
        assert_eq!(relative(at(-40 * 86_400), now), "1 month ago");
        assert_eq!(relative(at(-800 * 86_400), now), "2 years ago");
        assert_eq!(relative(at(7200), now), "in 2 hours");
    }
}
