//! The domain result JSON contract of DESIGN.md ("every field is always present") as the tests
//! check it: one list of fields per level, so extending the contract is one edit here.

use serde_json::Value;

/// Every field DESIGN.md's domain result JSON always has, at all three levels.
pub fn missing_fields(result: &Value) -> Vec<String> {
    const DOMAIN: &[&str] = &[
        "domain",
        "verdict",
        "starttls",
        "pfs",
        "strict_valid",
        "tls_grade",
        "dns_error",
        "probed_at",
        "mx",
        "mta_sts",
        "tls_rpt",
        "dnssec",
        "dane",
        "dane_warnings",
        "sender",
        "stale_since",
        "last_known",
    ];
    const MX_HOST: &[&str] = &[
        "host",
        "preference",
        "implicit",
        "cname_target",
        "dns_error",
        "addresses",
        "sts_matched",
        "sts_passes",
        "tls_rpt",
        "dnssec",
        "tlsa",
        "tlsa_dnssec",
        "dane",
        "dane_warnings",
    ];
    const ADDRESS: &[&str] = &[
        "ip",
        "outcome",
        "smtp_code",
        "smtp_text",
        "detail",
        "starttls_advertised",
        "ehlo_before_tls",
        "ehlo_after_tls",
        "tls_version",
        "cipher_suite",
        "kx_group",
        "pfs",
        "legacy_tls",
        "tls_grade",
        "strict_valid",
        "cert_errors",
        "cert_subject",
        "cert_sans",
        "cert_issuer",
        "cert_not_before",
        "cert_not_after",
        "cert_days_left",
        "cert_key",
        "cert_sha256",
        "elapsed_ms",
        "dane",
        "dane_matched",
    ];
    let mut missing = Vec::new();
    let mut require = |object: &Value, fields: &[&str], place: &str| {
        for field in fields {
            if object.get(field).is_none() {
                missing.push(format!("{place} has no {field}"));
            }
        }
    };
    require(result, DOMAIN, "the domain");
    for host in result["mx"].as_array().into_iter().flatten() {
        require(host, MX_HOST, "an MX host");
        for address in host["addresses"].as_array().into_iter().flatten() {
            require(address, ADDRESS, "an address");
        }
    }
    missing
}

/// Every field DESIGN.md's trends JSON point always has: `date`; `domains`, `mx_hosts` with
/// their counts (integers); `volume` with the keys of `domains` as numbers, or null for a
/// roll-up written before weights existed; in all three the authenticated-transport counts
/// (`AUTH`: integers, numbers in `volume`, or null together for a day without their facts).
pub fn missing_trend_fields(point: &Value) -> Vec<String> {
    const DOMAINS: &[&str] = &[
        "total",
        "no_mail",
        "untestable",
        "testable",
        "starttls",
        "pfs",
        "strict_valid",
        "all_three",
        "stale",
    ];
    const MX_HOSTS: &[&str] = &[
        "total",
        "untestable",
        "testable",
        "starttls",
        "pfs",
        "strict_valid",
        "all_three",
    ];
    let mut missing = Vec::new();
    if !point["date"].is_string() {
        missing.push("the point has no date".to_string());
    }
    let mut require = |object: &Value, fields: &[&str], place: &str, integers: bool| {
        for field in fields {
            let value = &object[*field];
            let fits = if integers {
                value.is_u64()
            } else {
                value.is_number()
            };
            if !fits {
                missing.push(format!("{place} has no {field} (found {value})"));
            }
        }
    };
    require(&point["domains"], DOMAINS, "domains", true);
    require(&point["mx_hosts"], MX_HOSTS, "mx_hosts", true);
    let volume = point.get("volume");
    if let Some(volume) = volume.filter(|volume| !volume.is_null()) {
        require(volume, DOMAINS, "volume", false);
    }
    missing.extend(auth_problems(&point["domains"], "domains", true));
    missing.extend(auth_problems(&point["mx_hosts"], "mx_hosts", true));
    match volume {
        None => missing.push("the point has no volume".to_string()),
        Some(Value::Null) => {}
        Some(volume) => missing.extend(auth_problems(volume, "volume", false)),
    }
    missing
}

/// What is wrong with the authenticated-transport counts of one object of a trend point: every
/// key present, an integer (a number when not `integers`) or null, and null all together.
fn auth_problems(object: &Value, place: &str, integers: bool) -> Vec<String> {
    const AUTH: &[&str] = &[
        "auth_testable",
        "dane_valid",
        "dane_known",
        "sts_enforce",
        "authenticated",
        "at_risk",
    ];
    let mut problems = Vec::new();
    for field in AUTH {
        let value = &object[*field];
        let fits = value.is_null()
            || if integers {
                value.is_u64()
            } else {
                value.is_number()
            };
        if object.get(*field).is_none() || !fits {
            problems.push(format!("{place} has no {field} (found {value})"));
        }
    }
    let nulls = AUTH
        .iter()
        .filter(|field| object[**field].is_null())
        .count();
    if nulls != 0 && nulls != AUTH.len() {
        problems.push(format!(
            "{place}'s authenticated-transport counts are not null together"
        ));
    }
    problems
}
