//! One cell of a spreadsheet to one domain name: bare domain, e-mail address, URL, IDN.
//!
//! Owns: the rules that turn what people paste into spreadsheets into the ASCII spelling that
//! [`DomainName`] accepts. The reverse (Unicode) form shown to people is
//! [`DomainName::display_name`]; the tests here check that it reads back through these rules.
//! Must not touch: I/O.

use std::borrow::Cow;
use std::net::IpAddr;

use idna::AsciiDenyList;

use crate::model::{DomainName, DomainNameError};

/// Why a cell does not hold a usable domain name. The text is shown to people as the reason of
/// an invalid line, so it says what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// Nothing but whitespace.
    #[error("empty cell")]
    Empty,
    /// An e-mail address with nothing after the `@`.
    #[error("e-mail address without a domain after '@'")]
    EmptyMailDomain,
    /// A URL that has no host (e.g. `mailto:` without an address, `file:///...`).
    #[error("URL without a host name")]
    UrlWithoutHost,
    /// A URL the `url` crate could not parse.
    #[error("not a valid URL: {0}")]
    BadUrl(String),
    /// An IP address (or an e-mail address literal like `user@[192.0.2.1]`).
    #[error("'{0}' is an IP address, not a domain name")]
    IpAddress(String),
    /// IDNA processing (UTS 46) rejected the name: disallowed characters, bad punycode.
    #[error("not a valid domain name (internationalized-name rules reject it)")]
    Idna,
    /// The ASCII form breaks a domain-name rule (label length, characters, single label...).
    #[error("{0}")]
    Domain(#[from] DomainNameError),
}

/// Characters that often stick to copied cells but are never part of a name.
fn is_edge_noise(character: char) -> bool {
    character.is_whitespace()
        || matches!(
            character,
            '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '"' | '\'' | '`'
        )
}

/// Turns one cell into a domain name.
///
/// Accepts a bare domain (`Example.ORG.`), an e-mail address (the part after the last `@`, also
/// as `Name <user@example.org>` or `mailto:user@example.org`), a URL (its host, with or without
/// a scheme: `https://www.example.org/path`, `www.example.org:443/x`) and internationalized
/// names (`bücher.de` becomes `xn--bcher-kva.de`, by UTS 46 as browsers do). Case and one
/// trailing dot are normalized away. IP addresses and single-label names are refused with the
/// reason.
pub fn normalize_domain(cell: &str) -> Result<DomainName, NormalizeError> {
    let mut text = cell.trim_matches(is_edge_noise);
    if text.is_empty() {
        return Err(NormalizeError::Empty);
    }
    // "Jane Doe <jane@example.org>" → the address inside the angle brackets.
    if let (Some(open), true) = (text.rfind('<'), text.ends_with('>')) {
        text = text[open + 1..text.len() - 1].trim_matches(is_edge_noise);
    }
    let host = if let Some(rest) = strip_prefix_ignore_case(text, "mailto:") {
        Cow::Borrowed(mail_domain(rest.split('?').next().unwrap_or(rest))?)
    } else if text.contains("://") {
        Cow::Owned(url_host(text)?)
    } else if text.contains('@') {
        Cow::Borrowed(mail_domain(text)?)
    } else {
        Cow::Borrowed(bare_host(text))
    };
    to_domain(&host)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The domain of an e-mail address: after the last `@`.
fn mail_domain(address: &str) -> Result<&str, NormalizeError> {
    let domain = address
        .rsplit_once('@')
        .map_or(address, |(_, domain)| domain)
        .trim_matches(is_edge_noise);
    if domain.is_empty() {
        return Err(NormalizeError::EmptyMailDomain);
    }
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        return Err(NormalizeError::IpAddress(literal.to_string()));
    }
    Ok(domain)
}

/// The host of a URL with a scheme; the `url` crate does the parsing (userinfo, port, IPv6).
fn url_host(text: &str) -> Result<String, NormalizeError> {
    let parsed =
        url::Url::parse(text).map_err(|error| NormalizeError::BadUrl(error.to_string()))?;
    match parsed.host() {
        Some(url::Host::Domain(domain)) => Ok(domain.to_string()),
        Some(url::Host::Ipv4(ip)) => Err(NormalizeError::IpAddress(ip.to_string())),
        Some(url::Host::Ipv6(ip)) => Err(NormalizeError::IpAddress(ip.to_string())),
        None => Err(NormalizeError::UrlWithoutHost),
    }
}

/// A host written without a scheme: cut any path, query or fragment, then a `:port`.
fn bare_host(text: &str) -> &str {
    let host = text
        .find(['/', '?', '#'])
        .map_or(text, |position| &text[..position]);
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    }
}

fn to_domain(host: &str) -> Result<DomainName, NormalizeError> {
    let host = host.trim_matches(is_edge_noise);
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err(NormalizeError::Empty);
    }
    let unbracketed = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if unbracketed.parse::<IpAddr>().is_ok() {
        return Err(NormalizeError::IpAddress(unbracketed.to_string()));
    }
    let ascii = idna::domain_to_ascii_cow(host.as_bytes(), AsciiDenyList::URL)
        .map_err(|_| NormalizeError::Idna)?;
    // UTS 46 maps ideographic full stops to '.', so a trailing one may reappear.
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii);
    Ok(DomainName::parse(ascii)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(cell: &str) -> String {
        match normalize_domain(cell) {
            Ok(domain) => domain.to_string(),
            Err(error) => panic!("'{cell}' should be valid: {error}"),
        }
    }

    #[test]
    fn bare_domains_lose_case_spaces_and_trailing_dot() {
        assert_eq!(ok("  Example.ORG. "), "example.org");
        assert_eq!(ok("\u{feff}example.org\u{200b}"), "example.org");
        assert_eq!(ok("\"example.org\""), "example.org");
        assert_eq!(ok("_dmarc.example.org"), "_dmarc.example.org");
    }

    #[test]
    fn email_addresses_give_the_part_after_the_last_at() {
        assert_eq!(ok("Jane.Doe@Example.org"), "example.org");
        assert_eq!(ok("\"a@b\"@mail.example.org"), "mail.example.org");
        assert_eq!(ok("Jane Doe <jane@example.org>"), "example.org");
        assert_eq!(ok("mailto:jane@example.org?subject=hi"), "example.org");
        assert_eq!(ok("@example.org"), "example.org");
        assert_eq!(
            normalize_domain("jane@"),
            Err(NormalizeError::EmptyMailDomain)
        );
        assert!(matches!(
            normalize_domain("jane@[192.0.2.1]"),
            Err(NormalizeError::IpAddress(_))
        ));
    }

    #[test]
    fn urls_give_their_host() {
        assert_eq!(ok("https://www.Example.org/path?q=1#x"), "www.example.org");
        assert_eq!(ok("http://user:pw@example.org:8080/"), "example.org");
        assert_eq!(ok("www.example.org/contact"), "www.example.org");
        assert_eq!(ok("example.org:443"), "example.org");
        assert_eq!(ok("https://bücher.de/"), "xn--bcher-kva.de");
        assert!(matches!(
            normalize_domain("https://192.0.2.1/"),
            Err(NormalizeError::IpAddress(_))
        ));
        assert!(matches!(
            normalize_domain("http://[2001:db8::1]/"),
            Err(NormalizeError::IpAddress(_))
        ));
        assert!(matches!(
            normalize_domain("file:///etc/passwd"),
            Err(NormalizeError::UrlWithoutHost)
        ));
        assert!(matches!(
            normalize_domain("http://"),
            Err(NormalizeError::BadUrl(_))
        ));
    }

    #[test]
    fn internationalized_names_become_punycode_and_display_in_unicode() {
        assert_eq!(ok("Bücher.DE"), "xn--bcher-kva.de");
        assert_eq!(ok("例え.テスト"), "xn--r8jz45g.xn--zckzah");
        assert_eq!(ok("пример.рф."), "xn--e1afmkfd.xn--p1ai");
        // Ideographic full stop as separator.
        assert_eq!(ok("例え。テスト"), "xn--r8jz45g.xn--zckzah");
        assert_eq!(ok("xn--bcher-kva.de"), "xn--bcher-kva.de");
        let domain = normalize_domain("bücher.de").expect("valid");
        assert_eq!(domain.display_name(), "bücher.de");
        assert_eq!(normalize_domain(&domain.display_name()), Ok(domain.clone()));
        let plain = normalize_domain("example.org").expect("valid");
        assert_eq!(plain.display_name(), "example.org");
        let bad_punycode = DomainName::parse("xn--zz.example").expect("syntactically fine");
        assert_eq!(bad_punycode.display_name(), "xn--zz.example");
    }

    /// Found by the `normalize_domain` fuzz target: a punycode label that decodes to one starting
    /// with `xn--` was shown in a Unicode form that reads back as no domain at all.
    #[test]
    fn the_shown_form_always_reads_back_as_the_same_domain() {
        let domain =
            normalize_domain("xn--xn---eedaa.xn--bgohhhhhhhhrkhohhhhmrwei").expect("valid");
        assert_eq!(
            domain.display_name(),
            "xn--xn---eedaa.xn--bgohhhhhhhhrkhohhhhmrwei"
        );
        for name in ["例え.テスト", "пример.рф", "bücher.de", "straße.de"] {
            let domain = normalize_domain(name).expect("valid");
            assert_eq!(normalize_domain(&domain.display_name()), Ok(domain));
        }
    }

    #[test]
    fn junk_is_refused_with_a_reason() {
        assert_eq!(normalize_domain("   "), Err(NormalizeError::Empty));
        assert!(matches!(
            normalize_domain("localhost"),
            Err(NormalizeError::Domain(DomainNameError::SingleLabel(_)))
        ));
        assert!(matches!(
            normalize_domain("192.0.2.7"),
            Err(NormalizeError::IpAddress(_))
        ));
        assert!(normalize_domain("exa mple.org").is_err());
        assert!(normalize_domain("a..b.org").is_err());
        assert!(normalize_domain("-bad.org").is_err());
        assert!(normalize_domain("<script>alert(1)</script>").is_err());
        assert!(normalize_domain(&format!("{}.org", "a".repeat(64))).is_err());
        let reason = normalize_domain("not a domain")
            .expect_err("invalid")
            .to_string();
        assert!(!reason.is_empty());
    }
}
