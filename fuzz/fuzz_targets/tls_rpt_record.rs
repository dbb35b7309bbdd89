//! Fuzzes the `_smtp._tls` TXT record-set parser (`probe::tls_rpt::parse_tls_rpt_txt`) with
//! what a hostile DNS zone may publish.
//!
//! Input: the record set. Records are separated by `\n`, and the character-strings of one
//! record by `\0`.
//!
//! Checks, besides "never panics":
//! - `none` exactly when no joined record starts with `v=TLSRPTv1` followed by the end, a
//!   space, a tab or `;`; two or more such records are always `invalid`;
//! - `valid` has at least one URI, each `mailto:` or `https:` (any case), each a piece of the
//!   record, and no detail; `invalid` has no URI and a detail; `none` has neither;
//! - how a record is cut into strings, and other TXT records beside it, change nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use starttls_monitor::model::auth::TlsRptStatus;
use starttls_monitor::probe::tls_rpt::parse_tls_rpt_txt;

fuzz_target!(|data: &[u8]| check(data));

fn records(data: &[u8]) -> Vec<Vec<&[u8]>> {
    data.split(|byte| *byte == b'\n')
        .map(|record| record.split(|byte| *byte == 0).collect())
        .collect()
}

fn is_tls_rpt(joined: &[u8]) -> bool {
    joined
        .strip_prefix(b"v=TLSRPTv1")
        .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b';')))
}

fn check(data: &[u8]) {
    let set = records(data);
    let answer = parse_tls_rpt_txt(set.iter().map(|strings| strings.iter().copied()));
    let joined: Vec<Vec<u8>> = set.iter().map(|strings| strings.concat()).collect();
    let candidates: Vec<&Vec<u8>> = joined.iter().filter(|record| is_tls_rpt(record)).collect();
    match answer.status {
        TlsRptStatus::None => {
            assert!(
                candidates.is_empty(),
                "none, yet {} records",
                candidates.len()
            );
            assert!(
                answer.rua.is_empty() && answer.detail.is_none(),
                "{answer:?}"
            );
        }
        TlsRptStatus::Invalid => {
            assert!(!candidates.is_empty(), "invalid without a record");
            assert!(answer.rua.is_empty(), "invalid with URIs");
            assert!(answer.detail.as_ref().is_some_and(|why| !why.is_empty()));
        }
        TlsRptStatus::Valid => {
            let [record] = candidates.as_slice() else {
                panic!("valid with {} records", candidates.len());
            };
            assert!(
                !answer.rua.is_empty() && answer.detail.is_none(),
                "{answer:?}"
            );
            for uri in &answer.rua {
                let lower = uri.to_ascii_lowercase();
                assert!(
                    lower.starts_with("mailto:") || lower.starts_with("https:"),
                    "scheme of {uri:?}"
                );
                assert!(
                    record
                        .windows(uri.len())
                        .any(|window| window == uri.as_bytes()),
                    "{uri:?} is not in the record"
                );
            }
        }
    }
    if candidates.len() >= 2 {
        assert_eq!(answer.status, TlsRptStatus::Invalid);
    }
    let whole = parse_tls_rpt_txt(joined.iter().map(|record| [record.as_slice()]));
    assert_eq!(
        whole, answer,
        "cutting records into strings changed the answer"
    );
    let mut with_others = joined.clone();
    with_others.insert(0, b"v=spf1 -all".to_vec());
    with_others.push(b"v=STSv1; id=1".to_vec());
    let beside = parse_tls_rpt_txt(with_others.iter().map(|record| [record.as_slice()]));
    assert_eq!(beside, answer, "other TXT records changed the answer");
}
