//! Which network path a scan's SMTP sessions took: direct, or through a SOCKS5 proxy. Two
//! vantage points can see different things (a filtered port, a different route), so every
//! stored scan records its path and the Trends chart marks where it changed.
//!
//! Owns: the path value, its stored text (`direct`, `socks5://HOST:PORT`) and where a series
//! of scans changed path ([`path_changes`]). Never holds credentials. Must not touch: I/O.

use std::fmt;

use time::OffsetDateTime;

/// The path of a scan's connections.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum NetworkPath {
    /// Straight from this machine (and every scan stored before proxies existed).
    #[default]
    Direct,
    /// Through the SOCKS5 proxy at `endpoint` (`HOST:PORT`, no credentials).
    Socks5 { endpoint: String },
}

impl NetworkPath {
    /// Reads the stored text back; anything unknown is None.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "direct" => Some(Self::Direct),
            other => other
                .strip_prefix("socks5://")
                .filter(|endpoint| !endpoint.is_empty() && !endpoint.contains('@'))
                .map(|endpoint| Self::Socks5 {
                    endpoint: endpoint.to_string(),
                }),
        }
    }

    /// Whether the sessions went through a proxy.
    pub fn is_proxy(&self) -> bool {
        matches!(self, Self::Socks5 { .. })
    }
}

impl fmt::Display for NetworkPath {
    /// The stored text: `direct` or `socks5://HOST:PORT`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Direct => formatter.write_str("direct"),
            Self::Socks5 { endpoint } => write!(formatter, "socks5://{endpoint}"),
        }
    }
}

/// Where a time-ordered series of scans changed path: each change's time and the path taken
/// from then on. The first scan's path is no change.
pub fn path_changes<'a>(
    scans: impl IntoIterator<Item = (OffsetDateTime, &'a NetworkPath)>,
) -> Vec<(OffsetDateTime, NetworkPath)> {
    let mut changes = Vec::new();
    let mut previous: Option<&NetworkPath> = None;
    for (at, path) in scans {
        if let Some(before) = previous
            && before != path
        {
            changes.push((at, path.clone()));
        }
        previous = Some(path);
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_text_reads_back() {
        let proxy = NetworkPath::Socks5 {
            endpoint: "127.0.0.1:1080".into(),
        };
        for path in [NetworkPath::Direct, proxy] {
            assert_eq!(NetworkPath::parse(&path.to_string()), Some(path));
        }
        assert_eq!(NetworkPath::parse("socks5://"), None);
        assert_eq!(
            NetworkPath::parse("socks5://u:p@h:1"),
            None,
            "never credentials"
        );
        assert_eq!(NetworkPath::parse("carrier pigeon"), None);
    }

    #[test]
    fn a_change_of_path_is_marked_once_where_it_happened() {
        let day = |n: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::days(n);
        let proxy = NetworkPath::Socks5 {
            endpoint: "vps.example:1080".into(),
        };
        let scans = [
            (day(1), &NetworkPath::Direct),
            (day(2), &NetworkPath::Direct),
            (day(3), &proxy),
            (day(4), &proxy),
            (day(5), &NetworkPath::Direct),
        ];
        assert_eq!(
            path_changes(scans),
            vec![(day(3), proxy.clone()), (day(5), NetworkPath::Direct)]
        );
        assert!(path_changes([(day(1), &proxy)]).is_empty());
    }
}
