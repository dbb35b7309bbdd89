//! MTA-STS and TLS-RPT for one domain: the `_mta-sts` and `_smtp._tls` TXT lookups, the policy
//! fetch, which policy is in force (fetched now, or one a stored scan remembers), and the
//! `mta_sts` / `tls_rpt` objects with each MX host's `sts_matched` / `sts_passes`.
//!
//! Owns: the RFC 8461 §3.3 and §5.1 rules a sender follows to get a policy — HTTPS only, a
//! certificate valid for `mta-sts.<domain>`, HTTP 200 only, redirects not followed, at most
//! [`POLICY_BODY_LIMIT`] bytes, `text/plain` expected (else a warning), a cached policy used while
//! within `max_age` when the fetch fails — and the warnings (policy changed with the same `id`,
//! policy host certificate ending soon). Record and policy syntax are [`super::mta_sts`] and
//! [`super::tls_rpt`]; the outcome rule is `model::auth::mta_sts_outcome`; the transport is
//! [`super::https`]. Must not touch: the store (a remembered policy comes through
//! [`PolicyMemory`], which the monitor implements), the SMTP verdicts: nothing here changes
//! `starttls`, `pfs` or `strict_valid`, and a DNS failure of these lookups is recorded in
//! `mta_sts` / `tls_rpt` only.

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::format_description;

use super::dns::{Dns, TxtAnswer};
use super::https::{HttpsClient, HttpsRequest, Method};
use super::mta_sts::{StsPolicy, parse_sts_txt};
use super::tls_rpt::parse_tls_rpt_txt;
use crate::model::auth::{
    KnownPolicy, MtaSts, MtaStsOutcome, StsHostCheck, StsTxt, TlsRpt, TlsRptStatus,
    mta_sts_outcome, sts_passes,
};
use crate::model::{DnsError, DomainName, MxResult, Verdict, aggregate};

/// Most bytes of a policy file read (RFC 8461 §3.3 suggests 64 KB); a longer one fails the fetch.
pub const POLICY_BODY_LIMIT: usize = 64 * 1024;

/// Where the policy lives on `mta-sts.<domain>` (RFC 8461 §3.2).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// Gives a stored scan the MTA-STS policy a domain served before (the monitor reads it from the
/// store: probe and store do not know each other). `probe` has no memory, so it never uses a
/// cached policy.
pub trait PolicyMemory: Send + Sync {
    /// The policy in force in the domain's latest stored result, if any.
    fn last_policy(&self, domain: &DomainName) -> Option<KnownPolicy>;
}

/// The `_mta-sts` TXT record set as looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxtLookup {
    Found(StsTxt),
    /// The lookup failed: what senders do then depends on their cache.
    Failed(DnsError),
}

/// A policy fetched and parsed now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedPolicy {
    pub policy: StsPolicy,
    /// The body as served.
    pub text: String,
    pub fetched_at: OffsetDateTime,
    /// Warnings about the fetch (content type, the policy host's certificate ending soon).
    pub warnings: Vec<String>,
}

/// Why no policy could be fetched: a stage (`connect`, `timeout`, `tls`, `tls_certificate`,
/// `http`, `http_status`, `redirect`, `too_large`, `parse`) and the detail in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchFailure {
    pub reason: &'static str,
    pub detail: String,
}

impl FetchFailure {
    fn text(&self) -> String {
        format!("policy fetch failed ({}): {}", self.reason, self.detail)
    }
}

/// The policy in force and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
struct InForce {
    policy: StsPolicy,
    text: String,
    fetched_at: OffsetDateTime,
    cached: bool,
}

/// What a domain's MTA-STS lookups found, before its MX hosts are judged against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsFindings {
    /// The TXT state the outcome rule reads (a failed lookup with a cached policy in force
    /// reads as the cached policy's record).
    txt: StsTxt,
    id: Option<String>,
    in_force: Option<InForce>,
    /// Failure and warnings, in words, in the order they arose.
    notes: Vec<String>,
}

impl StsFindings {
    /// Decides which policy is in force from the TXT lookup, today's fetch (None when none was
    /// tried: no valid record) and the remembered policy, at `now` (RFC 8461 §3.3, §5.1).
    pub fn decide(
        txt: TxtLookup,
        fetched: Option<Result<FetchedPolicy, FetchFailure>>,
        remembered: Option<&KnownPolicy>,
        now: OffsetDateTime,
    ) -> StsFindings {
        let usable_cache = remembered
            .filter(|known| known.in_date(now))
            .and_then(|known| {
                StsPolicy::parse(known.text.as_bytes())
                    .ok()
                    .map(|policy| (known, policy))
            });
        let cached_in_force = |known: &KnownPolicy, policy: StsPolicy| InForce {
            policy,
            text: known.text.clone(),
            fetched_at: known.fetched_at,
            cached: true,
        };
        let applying = |known: &KnownPolicy| {
            format!(
                "applying the policy fetched at {} (valid until {}), as senders that cached it do",
                rfc3339(known.fetched_at),
                rfc3339(known.expires_at())
            )
        };
        match txt {
            TxtLookup::Failed(error) => {
                let lookup = format!("the _mta-sts TXT lookup failed ({})", error.as_str());
                match usable_cache {
                    Some((known, policy)) => StsFindings {
                        txt: StsTxt::Valid {
                            id: known.id.clone(),
                        },
                        id: Some(known.id.clone()),
                        notes: vec![lookup, applying(known)],
                        in_force: Some(cached_in_force(known, policy)),
                    },
                    None => StsFindings {
                        txt: StsTxt::Absent,
                        id: None,
                        in_force: None,
                        notes: vec![format!(
                            "{lookup}; senders without a cached policy see none"
                        )],
                    },
                }
            }
            TxtLookup::Found(StsTxt::Absent) => StsFindings {
                txt: StsTxt::Absent,
                id: None,
                in_force: None,
                notes: Vec::new(),
            },
            TxtLookup::Found(StsTxt::Invalid { why }) => StsFindings {
                notes: vec![format!(
                    "bad _mta-sts TXT record: {why}; senders act as if there were no policy"
                )],
                txt: StsTxt::Invalid { why },
                id: None,
                in_force: None,
            },
            TxtLookup::Found(StsTxt::Valid { id }) => {
                let txt = StsTxt::Valid { id: id.clone() };
                match fetched {
                    Some(Ok(fetched)) => {
                        let mut notes = fetched.warnings;
                        if let Some(known) = remembered
                            && known.id == id
                            && StsPolicy::parse(known.text.as_bytes()).ok().as_ref()
                                != Some(&fetched.policy)
                        {
                            notes.push(format!(
                                "the policy changed but the TXT id stayed {id}: senders that \
                                 cached the old policy keep it until its max_age passes"
                            ));
                        }
                        StsFindings {
                            txt,
                            id: Some(id),
                            in_force: Some(InForce {
                                policy: fetched.policy,
                                text: fetched.text,
                                fetched_at: fetched.fetched_at,
                                cached: false,
                            }),
                            notes,
                        }
                    }
                    failed => {
                        let failure = match failed {
                            Some(Err(failure)) => failure.text(),
                            _ => "no policy was fetched".to_string(),
                        };
                        match usable_cache {
                            Some((known, policy)) => StsFindings {
                                txt,
                                id: Some(id),
                                notes: vec![failure, applying(known)],
                                in_force: Some(cached_in_force(known, policy)),
                            },
                            None => StsFindings {
                                txt,
                                id: Some(id),
                                in_force: None,
                                notes: vec![failure],
                            },
                        }
                    }
                }
            }
        }
    }

    /// Judges the MX hosts against the policy in force — sets each host's `sts_matched` (a
    /// pattern matches; null without a policy in force) and `sts_passes` (matched, STARTTLS and
    /// WebPKI valid on every testable address; null also when the host is untestable) — and
    /// returns the domain's `mta_sts` object. The outcome counts testable hosts only.
    pub fn judge(&self, hosts: &mut [MxResult]) -> MtaSts {
        let mut checks = Vec::new();
        for host in hosts.iter_mut() {
            let Some(in_force) = &self.in_force else {
                host.sts_matched = None;
                host.sts_passes = None;
                continue;
            };
            let matched = in_force.policy.matches(&host.host);
            host.sts_matched = Some(matched);
            let summary = aggregate(&host.addresses);
            if summary.verdict == Verdict::Untestable {
                host.sts_passes = None;
                continue;
            }
            let passes = sts_passes(matched, summary.starttls, summary.strict_valid);
            host.sts_passes = Some(passes);
            checks.push(StsHostCheck { matched, passes });
        }
        let mode = self.in_force.as_ref().map(|in_force| in_force.policy.mode);
        let outcome = mta_sts_outcome(&self.txt, mode, &checks);
        let failure = (!self.notes.is_empty()).then(|| self.notes.join("; "));
        MtaSts {
            outcome,
            id: self.id.clone(),
            mode,
            max_age: self
                .in_force
                .as_ref()
                .map(|in_force| in_force.policy.max_age),
            mx_patterns: self
                .in_force
                .as_ref()
                .map(|in_force| in_force.policy.mx.iter().map(ToString::to_string).collect()),
            fetched_at: self.in_force.as_ref().map(|in_force| in_force.fetched_at),
            cached: self
                .in_force
                .as_ref()
                .is_some_and(|in_force| in_force.cached),
            failure,
            policy: self.in_force.as_ref().map(|in_force| in_force.text.clone()),
        }
    }

    /// The outcome when no MX host is known (for tests and summaries).
    pub fn outcome_without_hosts(&self) -> MtaStsOutcome {
        self.judge(&mut []).outcome
    }
}

/// Looks up and fetches a domain's MTA-STS policy and decides which one is in force.
pub async fn look_up_mta_sts(
    dns: &Dns,
    https: &HttpsClient,
    https_port: u16,
    expiry_warning_days: u32,
    domain: &DomainName,
    memory: Option<Arc<dyn PolicyMemory>>,
) -> StsFindings {
    let txt = match dns.txt(&format!("_mta-sts.{}", domain.as_str())).await {
        TxtAnswer::Records(records) => TxtLookup::Found(parse_sts_txt(records)),
        TxtAnswer::Failed(error) => TxtLookup::Failed(error),
    };
    let fetched = match &txt {
        TxtLookup::Found(StsTxt::Valid { .. }) => {
            Some(fetch_policy(https, https_port, expiry_warning_days, domain).await)
        }
        _ => None,
    };
    // Only a scan that needs it asks for the stored policy: with a valid record (to see a
    // change, or to fall back) or when the lookup failed.
    let remembered = match (&txt, memory) {
        (TxtLookup::Found(StsTxt::Valid { .. }) | TxtLookup::Failed(_), Some(memory)) => {
            // The memory may wait for the store: off the runtime's workers.
            let domain = domain.clone();
            tokio::task::spawn_blocking(move || memory.last_policy(&domain))
                .await
                .unwrap_or_else(|error| {
                    tracing::error!("reading the remembered MTA-STS policy failed: {error}");
                    None
                })
        }
        _ => None,
    };
    StsFindings::decide(txt, fetched, remembered.as_ref(), OffsetDateTime::now_utc())
}

/// Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` as RFC 8461 §3.3 says and parses
/// it.
pub async fn fetch_policy(
    https: &HttpsClient,
    port: u16,
    expiry_warning_days: u32,
    domain: &DomainName,
) -> Result<FetchedPolicy, FetchFailure> {
    let request = HttpsRequest {
        method: Method::Get,
        host: format!("mta-sts.{}", domain.as_str()),
        port,
        path: POLICY_PATH.to_string(),
        body: None,
        headers: Vec::new(),
        body_limit: POLICY_BODY_LIMIT,
    };
    let response = https.send(&request).await.map_err(|error| FetchFailure {
        reason: error.kind(),
        detail: error.to_string(),
    })?;
    let fetched_at = OffsetDateTime::now_utc();
    if (300..400).contains(&response.status) {
        return Err(FetchFailure {
            reason: "redirect",
            detail: format!(
                "HTTP {} to {}; senders do not follow redirects",
                response.status,
                response.location.as_deref().unwrap_or("(no Location)")
            ),
        });
    }
    if response.status != 200 {
        return Err(FetchFailure {
            reason: "http_status",
            detail: format!("HTTP {} (only 200 is accepted)", response.status),
        });
    }
    if response.too_large {
        return Err(FetchFailure {
            reason: "too_large",
            detail: format!("the policy is larger than {} KiB", POLICY_BODY_LIMIT / 1024),
        });
    }
    let policy = StsPolicy::parse(&response.body).map_err(|error| FetchFailure {
        reason: "parse",
        detail: error.to_string(),
    })?;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    let mut warnings = Vec::new();
    if let Some(warning) = content_type_warning(response.content_type.as_deref()) {
        warnings.push(warning);
    }
    if let Some(certificate) = &response.certificate {
        let warning_window = time::Duration::days(i64::from(expiry_warning_days));
        if certificate.not_after - fetched_at <= warning_window {
            warnings.push(format!(
                "the certificate of mta-sts.{} expires on {} (within {expiry_warning_days} days)",
                domain.as_str(),
                day(certificate.not_after)
            ));
        }
    }
    Ok(FetchedPolicy {
        policy,
        text,
        fetched_at,
        warnings,
    })
}

/// A warning unless the media type is `text/plain` (parameters such as `charset` allowed).
fn content_type_warning(content_type: Option<&str>) -> Option<String> {
    match content_type {
        Some(value)
            if value
                .split(';')
                .next()
                .is_some_and(|media| media.trim().eq_ignore_ascii_case("text/plain")) =>
        {
            None
        }
        Some(value) => Some(format!(
            "the policy is served as '{value}' (text/plain expected)"
        )),
        None => Some("the policy is served without a Content-Type (text/plain expected)".into()),
    }
}

/// Looks up the TLS-RPT record of a policy domain: the mail domain (for MTA-STS) or an MX host
/// with a secure TLSA RRset (for DANE, RFC 8460 §3). A failed lookup is `none`, with why.
pub async fn look_up_tls_rpt(dns: &Dns, policy_domain: &str) -> TlsRpt {
    let name = format!("_smtp._tls.{}", policy_domain.trim_end_matches('.'));
    match dns.txt(&name).await {
        TxtAnswer::Records(records) => parse_tls_rpt_txt(records),
        TxtAnswer::Failed(error) => TlsRpt {
            status: TlsRptStatus::None,
            rua: Vec::new(),
            detail: Some(format!("the {name} TXT lookup failed ({})", error.as_str())),
        },
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn day(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::auth::StsMode;
    use crate::model::test_support::mx_host;
    use crate::model::{AddressResult, Outcome, Reason};
    use std::net::{IpAddr, Ipv4Addr};

    const ENFORCE: &str =
        "version: STSv1\nmode: enforce\nmx: mx.example.org\nmx: *.example.net\nmax_age: 86400\n";

    fn at(hours: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000) + time::Duration::hours(hours)
    }

    fn valid_txt(id: &str) -> TxtLookup {
        TxtLookup::Found(StsTxt::Valid { id: id.into() })
    }

    fn fetched(text: &str, hours: i64) -> Result<FetchedPolicy, FetchFailure> {
        Ok(FetchedPolicy {
            policy: StsPolicy::parse(text.as_bytes()).unwrap(),
            text: text.into(),
            fetched_at: at(hours),
            warnings: Vec::new(),
        })
    }

    fn failed() -> Result<FetchedPolicy, FetchFailure> {
        Err(FetchFailure {
            reason: "connect",
            detail: "could not connect to mta-sts.example.org port 443: refused".into(),
        })
    }

    fn known(id: &str, text: &str, hours: i64) -> KnownPolicy {
        KnownPolicy {
            id: id.into(),
            text: text.into(),
            fetched_at: at(hours),
            max_age: 86_400,
        }
    }

    fn address(outcome: Outcome, strict: bool) -> AddressResult {
        let mut address = AddressResult::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            outcome,
            Reason::Completed,
            "",
        );
        if outcome == Outcome::TlsOk {
            address.pfs = Some(true);
            address.strict_valid = Some(strict);
        }
        address
    }

    #[test]
    fn a_fetched_policy_is_in_force_and_hosts_are_judged() {
        let findings = StsFindings::decide(valid_txt("1"), Some(fetched(ENFORCE, 0)), None, at(0));
        let mut hosts = vec![
            mx_host("mx.example.org", vec![address(Outcome::TlsOk, true)]),
            mx_host("a.example.net", vec![address(Outcome::TlsOk, false)]),
            mx_host("other.example.com", vec![address(Outcome::TlsOk, true)]),
            mx_host(
                "down.example.net",
                vec![address(Outcome::Untestable, false)],
            ),
        ];
        let mta_sts = findings.judge(&mut hosts);
        let facts: Vec<(Option<bool>, Option<bool>)> = hosts
            .iter()
            .map(|host| (host.sts_matched, host.sts_passes))
            .collect();
        assert_eq!(
            facts,
            [
                (Some(true), Some(true)),
                (Some(true), Some(false)),
                (Some(false), Some(false)),
                (Some(true), None),
            ]
        );
        assert_eq!(mta_sts.outcome, MtaStsOutcome::MxMismatch);
        assert_eq!(mta_sts.id.as_deref(), Some("1"));
        assert_eq!(mta_sts.mode, Some(StsMode::Enforce));
        assert_eq!(mta_sts.max_age, Some(86_400));
        assert_eq!(
            mta_sts.mx_patterns,
            Some(vec![
                "mx.example.org".to_string(),
                "*.example.net".to_string()
            ])
        );
        assert_eq!(mta_sts.fetched_at, Some(at(0)));
        assert!(!mta_sts.cached);
        assert_eq!(mta_sts.failure, None);
        assert_eq!(mta_sts.policy.as_deref(), Some(ENFORCE));
        // Without the unmatched host, the certificate is what fails.
        hosts.remove(2);
        assert_eq!(
            findings.judge(&mut hosts).outcome,
            MtaStsOutcome::MxCertInvalid
        );
        hosts.remove(1);
        assert_eq!(findings.judge(&mut hosts).outcome, MtaStsOutcome::EnforceOk);
    }

    #[test]
    fn no_record_or_a_bad_one_means_no_policy_and_hosts_stay_null() {
        let mut hosts = vec![mx_host(
            "mx.example.org",
            vec![address(Outcome::TlsOk, true)],
        )];
        let none = StsFindings::decide(TxtLookup::Found(StsTxt::Absent), None, None, at(0));
        let mta_sts = none.judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::None);
        assert_eq!((mta_sts.id, mta_sts.failure), (None, None));
        assert_eq!((hosts[0].sts_matched, hosts[0].sts_passes), (None, None));
        let bad = StsFindings::decide(
            TxtLookup::Found(StsTxt::Invalid {
                why: "2 TXT records start with v=STSv1".into(),
            }),
            None,
            Some(&known("1", ENFORCE, 0)),
            at(1),
        );
        let mta_sts = bad.judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::BadRecord);
        assert!(mta_sts.failure.unwrap().contains("2 TXT records"));
        assert_eq!(mta_sts.policy, None);
        assert_eq!(hosts[0].sts_matched, None);
    }

    #[test]
    fn a_failed_fetch_uses_the_remembered_policy_within_max_age_only() {
        let remembered = known("1", ENFORCE, 0);
        let mut hosts = vec![mx_host(
            "mx.example.org",
            vec![address(Outcome::TlsOk, true)],
        )];
        // `probe`: nothing remembered.
        let mta_sts =
            StsFindings::decide(valid_txt("1"), Some(failed()), None, at(5)).judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::PolicyFailed);
        assert!(!mta_sts.cached);
        let failure = mta_sts.failure.unwrap();
        assert!(
            failure.contains("policy fetch failed (connect)"),
            "{failure}"
        );
        assert_eq!(hosts[0].sts_matched, None);
        // A stored scan within max_age: the cached policy is in force.
        let mta_sts =
            StsFindings::decide(valid_txt("1"), Some(failed()), Some(&remembered), at(23))
                .judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::EnforceOk);
        assert!(mta_sts.cached);
        assert_eq!(mta_sts.fetched_at, Some(at(0)));
        assert_eq!(mta_sts.policy.as_deref(), Some(ENFORCE));
        let failure = mta_sts.failure.unwrap();
        assert!(
            failure.contains("policy fetch failed (connect)"),
            "{failure}"
        );
        assert!(
            failure.contains("applying the policy fetched at"),
            "{failure}"
        );
        assert_eq!(hosts[0].sts_passes, Some(true));
        // Also when the record's id changed: the new policy could not be had.
        let changed_id =
            StsFindings::decide(valid_txt("2"), Some(failed()), Some(&remembered), at(23));
        assert!(changed_id.judge(&mut hosts).cached);
        // Past max_age it is gone.
        let mta_sts =
            StsFindings::decide(valid_txt("1"), Some(failed()), Some(&remembered), at(24))
                .judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::PolicyFailed);
        assert!(!mta_sts.cached);
        // A failed TXT lookup falls back the same way, else there is no policy.
        let mta_sts = StsFindings::decide(
            TxtLookup::Failed(DnsError::Timeout),
            None,
            Some(&remembered),
            at(2),
        )
        .judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::EnforceOk);
        assert!(mta_sts.cached);
        assert_eq!(mta_sts.id.as_deref(), Some("1"));
        let mta_sts = StsFindings::decide(TxtLookup::Failed(DnsError::Servfail), None, None, at(2))
            .judge(&mut hosts);
        assert_eq!(mta_sts.outcome, MtaStsOutcome::None);
        assert!(
            mta_sts
                .failure
                .unwrap()
                .contains("lookup failed (servfail)")
        );
    }

    #[test]
    fn a_policy_that_changed_under_the_same_id_is_warned_about() {
        let remembered = known("1", ENFORCE, 0);
        let testing = ENFORCE.replace("enforce", "testing");
        let same_id = StsFindings::decide(
            valid_txt("1"),
            Some(fetched(&testing, 30)),
            Some(&remembered),
            at(30),
        )
        .outcome_without_hosts();
        assert_eq!(same_id, MtaStsOutcome::Testing);
        let mta_sts = StsFindings::decide(
            valid_txt("1"),
            Some(fetched(&testing, 30)),
            Some(&remembered),
            at(30),
        )
        .judge(&mut []);
        let failure = mta_sts.failure.unwrap();
        assert!(failure.contains("TXT id stayed 1"), "{failure}");
        // A new id, or the same policy written differently, is no news.
        let new_id = StsFindings::decide(
            valid_txt("2"),
            Some(fetched(&testing, 30)),
            Some(&remembered),
            at(30),
        );
        assert_eq!(new_id.judge(&mut []).failure, None);
        let crlf = ENFORCE.replace('\n', "\r\n");
        let same = StsFindings::decide(
            valid_txt("1"),
            Some(fetched(&crlf, 30)),
            Some(&remembered),
            at(30),
        );
        assert_eq!(same.judge(&mut []).failure, None);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_warning(Some("text/plain")), None);
        assert_eq!(
            content_type_warning(Some("Text/Plain; charset=utf-8")),
            None
        );
        assert!(
            content_type_warning(Some("text/html"))
                .unwrap()
                .contains("'text/html'")
        );
        assert!(
            content_type_warning(None)
                .unwrap()
                .contains("without a Content-Type")
        );
    }
}
