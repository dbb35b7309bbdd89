//! Fuzzes `import::normalize_domain`, which turns any spreadsheet cell into a domain name.
//!
//! Input: the cell's text (invalid UTF-8 is replaced, as no cell holds it).
//!
//! Checks, besides "never panics":
//! - what comes out is lower-case ASCII, at most 253 characters, and a valid `DomainName` equal
//!   to itself re-parsed;
//! - normalizing is idempotent: the ASCII result normalizes to itself;
//! - the Unicode form shown to people (`DomainName::display_name`) normalizes back to the same domain, so an
//!   exported list can be imported again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use starttls_monitor::import::normalize_domain;
use starttls_monitor::model::DomainName;

fuzz_target!(|data: &[u8]| {
    let cell = String::from_utf8_lossy(data);
    let Ok(domain) = normalize_domain(&cell) else {
        return;
    };
    let ascii = domain.as_str();
    assert!(ascii.is_ascii(), "not ASCII: {ascii:?}");
    assert!(
        !ascii.bytes().any(|byte| byte.is_ascii_uppercase()),
        "not lower case: {ascii:?}"
    );
    assert!(ascii.len() <= 253, "too long: {}", ascii.len());
    assert_eq!(
        DomainName::parse(ascii).as_ref(),
        Ok(&domain),
        "does not re-parse"
    );
    assert_eq!(
        normalize_domain(ascii).as_ref(),
        Ok(&domain),
        "{cell:?} -> {ascii:?} is not idempotent"
    );
    let shown = domain.display_name();
    assert_eq!(
        normalize_domain(&shown).as_ref(),
        Ok(&domain),
        "{cell:?} -> {ascii:?} is shown as {shown:?}, which reads back differently"
    );
});
