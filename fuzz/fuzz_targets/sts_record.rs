//! Fuzzes the `_mta-sts` TXT record-set parser (`probe::mta_sts::parse_sts_txt`) with what a
//! hostile DNS zone may publish.
//!
//! Input: the record set. Records are separated by `\n`, and the character-strings of one
//! record by `\0` (so one input can hold several records made of several strings).
//!
//! Checks, besides "never panics":
//! - `absent` exactly when no joined record starts with `v=STSv1` followed by the end, a
//!   space, a tab or `;`; two or more such records are always `invalid`;
//! - a valid `id` is 1 to 32 ASCII letters and digits, and appears in the record as `id=<id>`;
//! - how a record is cut into strings does not matter: each record as one string gives the
//!   same answer;
//! - records of other kinds beside it (SPF, verification tokens) change nothing;
//! - an invalid answer says why.

#![no_main]

use libfuzzer_sys::fuzz_target;
use starttls_monitor::model::auth::StsTxt;
use starttls_monitor::probe::mta_sts::parse_sts_txt;

fuzz_target!(|data: &[u8]| check(data));

fn records(data: &[u8]) -> Vec<Vec<&[u8]>> {
    data.split(|byte| *byte == b'\n')
        .map(|record| record.split(|byte| *byte == 0).collect())
        .collect()
}

fn is_sts(joined: &[u8]) -> bool {
    joined
        .strip_prefix(b"v=STSv1")
        .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b';')))
}

fn check(data: &[u8]) {
    let set = records(data);
    let answer = parse_sts_txt(set.iter().map(|strings| strings.iter().copied()));
    let joined: Vec<Vec<u8>> = set.iter().map(|strings| strings.concat()).collect();
    let sts_records = joined.iter().filter(|record| is_sts(record)).count();
    match &answer {
        StsTxt::Absent => assert_eq!(sts_records, 0, "absent, yet {sts_records} STS records"),
        StsTxt::Invalid { why } => {
            assert!(sts_records >= 1, "invalid without an STS record");
            assert!(!why.is_empty(), "invalid without a reason");
        }
        StsTxt::Valid { id } => {
            assert_eq!(sts_records, 1, "valid with {sts_records} STS records");
            assert!(
                (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "bad id {id:?}"
            );
            let needle = format!("id={id}");
            assert!(
                joined.iter().any(|record| record
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())),
                "id {id:?} is not in the record"
            );
        }
    }
    if sts_records >= 2 {
        assert!(matches!(answer, StsTxt::Invalid { .. }), "{answer:?}");
    }
    let whole = parse_sts_txt(joined.iter().map(|record| [record.as_slice()]));
    assert_eq!(
        whole, answer,
        "cutting records into strings changed the answer"
    );
    let mut with_others = joined.clone();
    with_others.insert(0, b"v=spf1 -all".to_vec());
    with_others.push(b"google-site-verification=abc".to_vec());
    let beside = parse_sts_txt(with_others.iter().map(|record| [record.as_slice()]));
    assert_eq!(beside, answer, "other TXT records changed the answer");
}
