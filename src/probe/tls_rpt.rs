//! TLS-RPT (RFC 8460 §3) as text: the `_smtp._tls.<policy domain>` TXT record set.
//!
//! Owns: the record parser (`v=TLSRPTv1` first, `rua=` required, a comma-separated list of
//! `mailto:` / `https:` URIs, unknown fields well-formed and otherwise ignored; the field syntax
//! is shared with MTA-STS, [`super::mta_sts`]). Must not touch: DNS (which policy domain to ask —
//! the mail domain for MTA-STS, the TLSA base domain for DANE — is the caller's choice) or
//! anything about sending reports.

use super::mta_sts::{is_extension_value, txt_fields, versioned_records};
use crate::model::auth::{TlsRpt, TlsRptStatus};

const VERSION: &str = "v=TLSRPTv1";

/// Reads a `_smtp._tls` TXT RRset; each record is given as its character-strings, joined
/// without spaces. Records not starting with `v=TLSRPTv1` (then the end, white space or `;`)
/// are ignored: none left is `none`; two or more is `invalid` (senders then assume no
/// TLS-RPT); one is `valid` with its URIs, or `invalid` with why.
pub fn parse_tls_rpt_txt<R, S>(records: impl IntoIterator<Item = R>) -> TlsRpt
where
    R: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let invalid = |detail: String| TlsRpt {
        status: TlsRptStatus::Invalid,
        rua: Vec::new(),
        detail: Some(detail),
    };
    match versioned_records(records, VERSION).as_slice() {
        [] => TlsRpt {
            status: TlsRptStatus::None,
            rua: Vec::new(),
            detail: None,
        },
        [record] => match parse_record(record) {
            Ok(rua) => TlsRpt {
                status: TlsRptStatus::Valid,
                rua,
                detail: None,
            },
            Err(why) => invalid(why),
        },
        several => invalid(format!(
            "{} TXT records start with {VERSION}; exactly one is allowed, so senders assume no \
             TLS-RPT",
            several.len()
        )),
    }
}

/// One joined record: its `rua` URIs, or why it is invalid.
fn parse_record(record: &[u8]) -> Result<Vec<String>, String> {
    let mut rua = None;
    for (name, value) in txt_fields(record, VERSION)? {
        if name != "rua" {
            if !is_extension_value(value) {
                return Err(format!(
                    "field {name} has an empty or malformed value '{value}'"
                ));
            }
            continue;
        }
        if rua.is_some() {
            return Err("two rua fields".to_string());
        }
        let uris = value
            .split(',')
            .map(|uri| report_uri(uri.trim_matches([' ', '\t'])))
            .collect::<Result<Vec<String>, String>>()?;
        rua = Some(uris);
    }
    rua.ok_or_else(|| "no rua field".to_string())
}

/// Checks one `rua` URI: RFC 3986 characters only, and a `mailto:` address or an `https:` URL
/// with a host.
fn report_uri(uri: &str) -> Result<String, String> {
    let uri_characters = !uri.is_empty()
        && uri
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&byte));
    let parsed = uri_characters
        .then(|| url::Url::parse(uri).ok())
        .flatten()
        .ok_or_else(|| format!("rua '{uri}' is not a URI"))?;
    let usable = match parsed.scheme() {
        "mailto" => !parsed.path().is_empty(),
        "https" => parsed.host_str().is_some_and(|host| !host.is_empty()),
        _ => {
            return Err(format!(
                "rua '{uri}': only mailto: and https: URIs are allowed"
            ));
        }
    };
    if !usable {
        return Err(format!("rua '{uri}' names no address or host"));
    }
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(records: &[&[&str]]) -> TlsRpt {
        parse_tls_rpt_txt(
            records
                .iter()
                .map(|strings| strings.iter().map(|s| s.as_bytes())),
        )
    }

    fn valid(rua: &[&str]) -> TlsRpt {
        TlsRpt {
            status: TlsRptStatus::Valid,
            rua: rua.iter().map(|uri| (*uri).to_string()).collect(),
            detail: None,
        }
    }

    #[test]
    fn record_sets_that_parse() {
        let none = TlsRpt {
            status: TlsRptStatus::None,
            rua: Vec::new(),
            detail: None,
        };
        let cases: &[(&[&[&str]], TlsRpt)] = &[
            (&[], none.clone()),
            (
                &[&["v=spf1 -all"], &["v=TLSRPTv10; rua=mailto:a@example.org"]],
                none.clone(),
            ),
            (&[&["v=tlsrptv1; rua=mailto:a@example.org"]], none),
            (
                &[&["v=TLSRPTv1; rua=mailto:tlsrpt@example.org"]],
                valid(&["mailto:tlsrpt@example.org"]),
            ),
            (
                &[&["v=TLSRPTv1;rua=https://reports.example.org/v1/tlsrpt"]],
                valid(&["https://reports.example.org/v1/tlsrpt"]),
            ),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org , https://r.example.net/x?y=1;"]],
                valid(&["mailto:a@example.org", "https://r.example.net/x?y=1"]),
            ),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org,\tMAILTO:b@example.org"]],
                valid(&["mailto:a@example.org", "MAILTO:b@example.org"]),
            ),
            // Strings of one record join without spaces; unknown fields are ignored.
            (
                &[&["v=TLSRPTv1; rua=mailto:tls", "rpt@example.org"]],
                valid(&["mailto:tlsrpt@example.org"]),
            ),
            (
                &[&["v=TLSRPTv1; ext=1; rua=mailto:a@example.org; other=x:y"]],
                valid(&["mailto:a@example.org"]),
            ),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org"], &["v=spf1 -all"]],
                valid(&["mailto:a@example.org"]),
            ),
        ];
        for (records, expected) in cases {
            assert_eq!(&parse(records), expected, "{records:?}");
        }
    }

    #[test]
    fn invalid_record_sets_say_why() {
        let cases: &[(&[&[&str]], &str)] = &[
            (
                &[
                    &["v=TLSRPTv1; rua=mailto:a@example.org"],
                    &["v=TLSRPTv1; rua=mailto:b@example.org"],
                ],
                "2 TXT records",
            ),
            (&[&["v=TLSRPTv1"]], "no field"),
            (&[&["v=TLSRPTv1;"]], "no field"),
            (&[&["v=TLSRPTv1; ext=1"]], "no rua"),
            (&[&["v=TLSRPTv1; RUA=mailto:a@example.org"]], "no rua"),
            (&[&["v=TLSRPTv1 rua=mailto:a@example.org"]], "expected ';'"),
            (&[&["v=TLSRPTv1; rua="]], "not a URI"),
            (&[&["v=TLSRPTv1; rua=mailto:a@example.org,"]], "not a URI"),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org,,https://x.example"]],
                "not a URI",
            ),
            (
                &[&["v=TLSRPTv1; rua=http://reports.example.org/"]],
                "only mailto: and https:",
            ),
            (
                &[&["v=TLSRPTv1; rua=ftp://reports.example.org/"]],
                "only mailto: and https:",
            ),
            (&[&["v=TLSRPTv1; rua=a@example.org"]], "not a URI"),
            (&[&["v=TLSRPTv1; rua=mailto:"]], "no address"),
            (&[&["v=TLSRPTv1; rua=https://"]], "not a URI"),
            (&[&["v=TLSRPTv1; rua=mailto:a b@example.org"]], "not a URI"),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org; rua=mailto:b@example.org"]],
                "two rua",
            ),
            (&[&["v=TLSRPTv1;; rua=mailto:a@example.org"]], "empty field"),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org; ext="]],
                "malformed value",
            ),
            (
                &[&["v=TLSRPTv1; rua=mailto:a@example.org; junk"]],
                "not name=value",
            ),
            (&[&["v=TLSRPTv1; rua=mailto:ä@example.org"]], "not ASCII"),
        ];
        for (records, why) in cases {
            let result = parse(records);
            assert_eq!(
                result.status,
                TlsRptStatus::Invalid,
                "{records:?}: {result:?}"
            );
            assert!(result.rua.is_empty(), "{records:?}");
            let detail = result.detail.unwrap_or_default();
            assert!(detail.contains(why), "{records:?}: {detail}");
        }
    }
}
