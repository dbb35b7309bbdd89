//! Adoption counts and shares: DESIGN.md's "Adoption rates on charts" and the trends JSON, in
//! one place.
//!
//! Owns: what one domain or MX host contributes to the counts ([`AdoptionState`], the only place
//! where "all three" is defined), the counts of a set of domains ([`TrendCounts`]; a stale
//! domain by its last known state, see [`super::stale`], and once more in `stale`) and of unique
//! MX hosts ([`HostTrendCounts`], folded by [`HostFold`]: the latest state per unique MX host),
//! one UTC day of a trend ([`TrendPoint`], whose JSON is the `trends --json` contract), and
//! turning trend points into chart series of percentages ([`share_series`]); the same counts
//! weighted by mail volume ([`VolumeCounts`], [`volume_share_series`]).
//! Must not touch: any I/O, and how the counts are stored or drawn (the store keeps roll-ups;
//! the UI, the CLI and the reports show them).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::auth::{self, DaneSetStatus};
use super::{DomainResult, MxResult, TlsGrade, Verdict, Weight, aggregate};

// `YYYY-MM-DD`, the date form of the trends JSON.
time::serde::format_description!(day_format, Date, "[year]-[month]-[day]");

/// What one domain (or one MX host) contributes to adoption counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdoptionState {
    /// The verdict; only testable ones count in shares.
    pub verdict: Verdict,
    /// Every testable address completed TLS.
    pub starttls: bool,
    /// STARTTLS, and every testable address was forward secret.
    pub pfs: bool,
    /// STARTTLS, and every testable address's certificate passed strict validation.
    pub strict_valid: bool,
    /// Some TLS session graded below sufficient ([`TlsGrade::is_weak`]): "weak TLS". False
    /// from [`AdoptionState::new`]; set by [`AdoptionState::with_tls_grade`].
    pub weak_tls: bool,
    /// The authenticated-transport facts ([`AuthState`]); None for a result stored before they
    /// existed (it then counts in none of the authenticated-transport counts, which stay null
    /// while no counted domain has them). None from [`AdoptionState::new`]; set by
    /// [`AdoptionState::with_auth`].
    pub auth: Option<AuthState>,
}

/// What one domain (or one MX host) contributes to the authenticated-transport counts (DESIGN.md
/// "Authenticated transport": % DANE valid, % MTA-STS enforce, % authenticated, % at risk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthState {
    /// The folded `dane` of the domain (or host); None when it was not looked up.
    pub dane: Option<DaneSetStatus>,
    /// An MTA-STS `enforce` policy is in force for the domain (for a host: for its domain).
    pub sts_enforce: bool,
    /// `sender.authenticated`: a DANE or MTA-STS sender authenticates the mail it delivers.
    pub authenticated: bool,
    /// `sender.at_risk`: a DANE or MTA-STS sender defers some or all of the mail.
    pub at_risk: bool,
}

impl AuthState {
    /// `dane` is `valid`.
    pub fn dane_valid(self) -> bool {
        self.dane == Some(DaneSetStatus::Valid)
    }

    /// `dane` was judged: looked up and not `unknown` (the resolver passed DNSSEC data). The
    /// DANE denominators count only these.
    pub fn dane_known(self) -> bool {
        !matches!(self.dane, None | Some(DaneSetStatus::Unknown))
    }

    /// A domain's facts, from its `dane`, `mta_sts` and `sender`; None when the result has no
    /// sender view (stored before it existed, or `no_mail`).
    pub fn of_domain(result: &DomainResult) -> Option<Self> {
        let sender = result.sender?;
        Some(Self {
            dane: result.dane,
            sts_enforce: sts_enforce(result),
            authenticated: sender.authenticated,
            at_risk: sender.at_risk,
        })
    }

    /// One MX host's facts within its domain's `result`: the sender rule over that host alone
    /// (its `dane` and `sts_passes`, the domain's MX-answer DNSSEC and policy). None for a host
    /// with no testable address, and for a result without a sender view.
    pub fn of_host(result: &DomainResult, host: &MxResult) -> Option<Self> {
        if host.verdict == Verdict::Untestable || result.sender.is_none() {
            return None;
        }
        let facts = auth::SenderFacts {
            no_mail: false,
            mx_dnssec: result.dnssec,
            sts_enforce: sts_enforce(result),
            hosts: vec![auth::SenderHostFacts {
                dane: host.dane,
                sts_passes: host.sts_passes,
            }],
        };
        let view = auth::sender_view(&facts)?;
        Some(Self {
            dane: host.dane,
            sts_enforce: facts.sts_enforce,
            authenticated: view.authenticated,
            at_risk: view.at_risk,
        })
    }
}

/// Whether an MTA-STS `enforce` policy is in force for `result`'s domain.
fn sts_enforce(result: &DomainResult) -> bool {
    result
        .mta_sts
        .as_ref()
        .is_some_and(|mta_sts| mta_sts.outcome.is_enforce())
}

impl AdoptionState {
    /// From a verdict and the three booleans as results carry them (null counts as false).
    pub fn new(
        verdict: Verdict,
        starttls: Option<bool>,
        pfs: Option<bool>,
        strict_valid: Option<bool>,
    ) -> Self {
        Self {
            verdict,
            starttls: starttls == Some(true),
            pfs: pfs == Some(true),
            strict_valid: strict_valid == Some(true),
            weak_tls: false,
            auth: None,
        }
    }

    /// The same state with its authenticated-transport facts (None: stored before they existed).
    pub fn with_auth(self, auth: Option<AuthState>) -> Self {
        Self { auth, ..self }
    }

    /// The same state with the (worst) TLS grade of its sessions: weak when below sufficient;
    /// no grade (no TLS, or a session whose facts were not recorded) is not weak.
    pub fn with_tls_grade(self, grade: Option<TlsGrade>) -> Self {
        Self {
            weak_tls: grade.is_some_and(TlsGrade::is_weak),
            ..self
        }
    }

    /// A domain's state, from its result.
    pub fn of_domain(result: &DomainResult) -> Self {
        Self::new(
            result.verdict,
            result.starttls,
            result.pfs,
            result.strict_valid,
        )
        .with_tls_grade(result.tls_grade)
        .with_auth(AuthState::of_domain(result))
    }

    /// An MX host's state within its domain's `result`: [`AdoptionState::of_host`] with the
    /// host's authenticated-transport facts ([`AuthState::of_host`]).
    pub fn of_host_in(result: &DomainResult, host: &MxResult) -> Self {
        Self::of_host(host).with_auth(AuthState::of_host(result, host))
    }

    /// An MX host's state, by the domain rule over its own addresses (no authenticated-transport
    /// facts: those need the domain, see [`AdoptionState::of_host_in`]).
    pub fn of_host(host: &MxResult) -> Self {
        let summary = aggregate(&host.addresses);
        Self::new(
            host.verdict,
            summary.starttls,
            summary.pfs,
            summary.strict_valid,
        )
        .with_tls_grade(summary.tls_grade)
    }

    /// Whether this counts in adoption denominators (not no-mail, not untestable).
    pub fn is_testable(self) -> bool {
        self.verdict.is_testable()
    }

    /// STARTTLS with forward secrecy and strict validation together: the headline figure
    /// (Facebook's "both PFS and strict validation").
    pub fn all_three(self) -> bool {
        self.starttls && self.pfs && self.strict_valid
    }
}

/// Counts of a set of domains (the `domains` object of a trend point). Shares are
/// `x / testable`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendCounts {
    /// Every domain counted.
    pub total: usize,
    /// Null MX: accepts no mail.
    pub no_mail: usize,
    /// No testable address.
    pub untestable: usize,
    /// The denominator of every share.
    pub testable: usize,
    pub starttls: usize,
    pub pfs: usize,
    pub strict_valid: usize,
    pub all_three: usize,
    /// Domains whose latest probe was untestable but that are counted above by their last known
    /// state (`model::stale`): part of `testable` and of the rates, not of `untestable`. Roll-ups
    /// from before the rule read as 0 (the migration recomputed every day it changes).
    #[serde(default)]
    pub stale: usize,
    /// Testable domains with weak TLS: some session graded below sufficient (phase out or
    /// insufficient, `model::tls_grade`). Counted beside the rates; `all_three` keeps its
    /// definition. Roll-ups are recomputed by the migration that added it (0 before).
    #[serde(default)]
    pub weak_tls: usize,
    /// Testable domains whose counted result has the authenticated-transport facts (a sender
    /// view): the denominator of `sts_enforce`, `authenticated` and `at_risk`. This and the
    /// five counts below are null together exactly when no counted domain has the facts (a day
    /// before they existed, or with nothing testable), never 0 for "not known".
    #[serde(default)]
    pub auth_testable: Option<usize>,
    /// Of those, domains whose `dane` is `valid` (every testable MX host DANE valid).
    #[serde(default)]
    pub dane_valid: Option<usize>,
    /// Of those, domains whose `dane` was judged (not `unknown`, not null): the denominator of
    /// `dane_valid`.
    #[serde(default)]
    pub dane_known: Option<usize>,
    /// Of those, domains with an MTA-STS `enforce` policy in force (`enforce_ok`,
    /// `mx_mismatch`, `mx_cert_invalid`).
    #[serde(default)]
    pub sts_enforce: Option<usize>,
    /// Of those, domains with `sender.authenticated`.
    #[serde(default)]
    pub authenticated: Option<usize>,
    /// Of those, domains with `sender.at_risk`.
    #[serde(default)]
    pub at_risk: Option<usize>,
}

/// Adds `count` to an authenticated-transport count (null becomes a number).
fn add_auth(field: &mut Option<usize>, count: usize) {
    *field = Some(field.unwrap_or(0) + count);
}

impl TrendCounts {
    /// Counts one more domain (or MX host) in `state`.
    pub fn add(&mut self, state: AdoptionState) {
        self.add_many(state, 1);
    }

    /// Counts one more domain by its last known state `last_known`, kept while its latest probe
    /// is untestable (`model::stale`): as that state, and once more in `stale`.
    pub fn add_stale(&mut self, last_known: AdoptionState) {
        self.add_many(last_known, 1);
        self.stale += 1;
    }

    /// Counts a domain by its standing: by `last_known` when that is kept (stale), else by
    /// `latest`.
    pub fn add_standing(&mut self, latest: AdoptionState, last_known: Option<AdoptionState>) {
        match last_known {
            Some(known) => self.add_stale(known),
            None => self.add(latest),
        }
    }

    /// Counts `count` more domains that are all in `state` (a grouped query's row).
    pub fn add_many(&mut self, state: AdoptionState, count: usize) {
        self.total += count;
        match state.verdict {
            Verdict::NoMail => self.no_mail += count,
            Verdict::Untestable => self.untestable += count,
            Verdict::NoStarttls | Verdict::TlsFailed | Verdict::TlsOk => {
                self.testable += count;
                self.starttls += count * usize::from(state.starttls);
                self.pfs += count * usize::from(state.pfs);
                self.strict_valid += count * usize::from(state.strict_valid);
                self.all_three += count * usize::from(state.all_three());
                self.weak_tls += count * usize::from(state.weak_tls);
                if let Some(auth) = state.auth.filter(|_| count > 0) {
                    add_auth(&mut self.auth_testable, count);
                    add_auth(&mut self.dane_valid, count * usize::from(auth.dane_valid()));
                    add_auth(&mut self.dane_known, count * usize::from(auth.dane_known()));
                    add_auth(&mut self.sts_enforce, count * usize::from(auth.sts_enforce));
                    add_auth(
                        &mut self.authenticated,
                        count * usize::from(auth.authenticated),
                    );
                    add_auth(&mut self.at_risk, count * usize::from(auth.at_risk));
                }
            }
        }
    }

    /// Domains that take mail (all but null MX): the denominator of the untestable share.
    pub fn takes_mail(&self) -> usize {
        self.total.saturating_sub(self.no_mail)
    }

    /// `measure` as (part, whole): the rates of testable domains; untestable of those that
    /// take mail.
    pub fn fraction(&self, measure: Measure) -> (usize, usize) {
        match measure {
            Measure::Starttls => (self.starttls, self.testable),
            Measure::Pfs => (self.pfs, self.testable),
            Measure::StrictValid => (self.strict_valid, self.testable),
            Measure::AllThree => (self.all_three, self.testable),
            Measure::WeakTls => (self.weak_tls, self.testable),
            Measure::Untestable => (self.untestable, self.takes_mail()),
            Measure::DaneValid => (self.dane_valid.unwrap_or(0), self.dane_known.unwrap_or(0)),
            Measure::StsEnforce => (
                self.sts_enforce.unwrap_or(0),
                self.auth_testable.unwrap_or(0),
            ),
            Measure::Authenticated => (
                self.authenticated.unwrap_or(0),
                self.auth_testable.unwrap_or(0),
            ),
            Measure::AtRisk => (self.at_risk.unwrap_or(0), self.auth_testable.unwrap_or(0)),
        }
    }
}

/// Counts of unique MX hosts (the `mx_hosts` object of a trend point; no `no_mail`: a host
/// always takes mail).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostTrendCounts {
    pub total: usize,
    pub untestable: usize,
    pub testable: usize,
    pub starttls: usize,
    pub pfs: usize,
    pub strict_valid: usize,
    pub all_three: usize,
    /// Testable hosts with weak TLS (as for domains; 0 in roll-ups from before it).
    #[serde(default)]
    pub weak_tls: usize,
    /// The authenticated-transport counts of testable hosts, as for domains (null together
    /// when no counted host has the facts): a host is DANE valid by its own `dane`, under
    /// `sts_enforce` when its domain's policy enforces, and authenticated / at risk by the
    /// sender rule over that host alone ([`AuthState::of_host`]).
    #[serde(default)]
    pub auth_testable: Option<usize>,
    #[serde(default)]
    pub dane_valid: Option<usize>,
    #[serde(default)]
    pub dane_known: Option<usize>,
    #[serde(default)]
    pub sts_enforce: Option<usize>,
    #[serde(default)]
    pub authenticated: Option<usize>,
    #[serde(default)]
    pub at_risk: Option<usize>,
}

impl HostTrendCounts {
    /// `measure` as (part, whole): the rates of testable hosts; untestable of all hosts.
    pub fn fraction(&self, measure: Measure) -> (usize, usize) {
        TrendCounts::from(self.clone()).fraction(measure)
    }
}

impl From<HostTrendCounts> for TrendCounts {
    /// Host counts read as counts of things that all take mail.
    fn from(hosts: HostTrendCounts) -> Self {
        Self {
            total: hosts.total,
            no_mail: 0,
            untestable: hosts.untestable,
            testable: hosts.testable,
            starttls: hosts.starttls,
            pfs: hosts.pfs,
            strict_valid: hosts.strict_valid,
            all_three: hosts.all_three,
            stale: 0,
            weak_tls: hosts.weak_tls,
            auth_testable: hosts.auth_testable,
            dane_valid: hosts.dane_valid,
            dane_known: hosts.dane_known,
            sts_enforce: hosts.sts_enforce,
            authenticated: hosts.authenticated,
            at_risk: hosts.at_risk,
        }
    }
}

impl From<TrendCounts> for HostTrendCounts {
    /// Host counts from counts made with [`TrendCounts::add`]; anything not testable is
    /// untestable (a host has no null MX).
    fn from(counts: TrendCounts) -> Self {
        Self {
            total: counts.total,
            untestable: counts.untestable + counts.no_mail,
            testable: counts.testable,
            starttls: counts.starttls,
            pfs: counts.pfs,
            strict_valid: counts.strict_valid,
            all_three: counts.all_three,
            weak_tls: counts.weak_tls,
            auth_testable: counts.auth_testable,
            dane_valid: counts.dane_valid,
            dane_known: counts.dane_known,
            sts_enforce: counts.sts_enforce,
            authenticated: counts.authenticated,
            at_risk: counts.at_risk,
        }
    }
}

/// The latest state per unique MX host: thousands of domains share a few providers' hosts, and
/// each host counts once, by the state from the most recently confirmed result naming it (the
/// first one seen wins a tie).
#[derive(Clone, Debug, Default)]
pub struct HostFold {
    hosts: HashMap<String, (OffsetDateTime, AdoptionState)>,
}

impl HostFold {
    /// Notes that a result confirmed at `seen_at` found `host` in `state`.
    pub fn add(&mut self, host: &str, seen_at: OffsetDateTime, state: AdoptionState) {
        match self.hosts.get_mut(host) {
            Some(entry) => {
                if entry.0 < seen_at {
                    *entry = (seen_at, state);
                }
            }
            None => {
                self.hosts.insert(host.to_string(), (seen_at, state));
            }
        }
    }

    /// Notes every MX host of a domain's result.
    pub fn add_result(&mut self, result: &DomainResult) {
        for host in &result.mx {
            self.add(
                &host.host,
                result.probed_at,
                AdoptionState::of_host_in(result, host),
            );
        }
    }

    /// How many unique hosts were seen.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether no host was seen.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The counts over each host's latest state.
    pub fn counts(&self) -> HostTrendCounts {
        let mut counts = TrendCounts::default();
        for (_, state) in self.hosts.values() {
            counts.add(*state);
        }
        HostTrendCounts::from(counts)
    }
}

/// One UTC day of a trend series: each domain counted by its latest result as of the end of
/// that day (DESIGN.md "Trends JSON"), plus the TLS version mix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The UTC day, written `YYYY-MM-DD`.
    #[serde(with = "day_format")]
    pub date: Date,
    pub domains: TrendCounts,
    pub mx_hosts: HostTrendCounts,
    /// Testable domains by the lowest TLS version among their MX addresses, e.g. `TLSv1.3`.
    pub tls_versions: BTreeMap<String, usize>,
    /// The same counts weighted by mail volume ([`VolumeCounts`]); None for roll-ups written
    /// before weights existed.
    #[serde(default)]
    pub volume: Option<VolumeCounts>,
}

/// One trend point as the trends JSON of DESIGN.md writes it (`trends --json` and the JSON
/// export): `date`, `domains`, `mx_hosts`, `volume`, in that order; no TLS version mix.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TrendPointJson<'a> {
    #[serde(with = "day_format")]
    date: Date,
    domains: &'a TrendCounts,
    mx_hosts: &'a HostTrendCounts,
    /// `null` for roll-ups written before weights existed.
    volume: Option<&'a VolumeCounts>,
}

impl TrendPoint {
    /// The point as the trends JSON contract has it.
    pub fn contract(&self) -> TrendPointJson<'_> {
        TrendPointJson {
            date: self.date,
            domains: &self.domains,
            mx_hosts: &self.mx_hosts,
            volume: self.volume.as_ref(),
        }
    }

    /// `measure` weighted by mail volume as (part, whole); None for a roll-up written before
    /// weights existed.
    pub fn volume_fraction(&self, measure: Measure) -> Option<(f64, f64)> {
        self.volume.as_ref().map(|volume| volume.fraction(measure))
    }

    /// `measure` over `basis` as (part, whole).
    pub fn fraction(&self, basis: Basis, measure: Measure) -> (usize, usize) {
        match basis {
            Basis::Domains => self.domains.fraction(measure),
            Basis::MxHosts => self.mx_hosts.fraction(measure),
        }
    }
}

/// What a share counts: domains, or unique MX hosts (Facebook reported both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Basis {
    Domains,
    MxHosts,
}

/// One figure of the adoption charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Share of testable with STARTTLS.
    Starttls,
    /// Share of testable with forward secrecy.
    Pfs,
    /// Share of testable with a strictly valid certificate.
    StrictValid,
    /// Share of testable with all three: the headline figure.
    AllThree,
    /// Share of testable with weak TLS (a session graded below sufficient): lower is better.
    WeakTls,
    /// Share of those that take mail that could not be tested.
    Untestable,
    /// Share of those whose DANE was judged (not `unknown`) that are DANE valid.
    DaneValid,
    /// Share of those with the authenticated-transport facts under an MTA-STS `enforce` policy.
    StsEnforce,
    /// Share of those with the facts whose mail a DANE or MTA-STS sender authenticates.
    Authenticated,
    /// Share of those with the facts where a DANE or MTA-STS sender defers mail: lower is
    /// better.
    AtRisk,
}

impl Measure {
    /// The four rates of testable domains (or hosts), headline last.
    pub const RATES: [Measure; 4] = [
        Measure::Starttls,
        Measure::Pfs,
        Measure::StrictValid,
        Measure::AllThree,
    ];
    /// The rates, the weak-TLS share, then the untestable share.
    pub const ALL: [Measure; 6] = [
        Measure::Starttls,
        Measure::Pfs,
        Measure::StrictValid,
        Measure::AllThree,
        Measure::WeakTls,
        Measure::Untestable,
    ];
    /// The authenticated-transport shares (DESIGN.md "Authenticated transport"), drawn beside
    /// [`Measure::ALL`]; null (no point) for days before their facts existed.
    pub const AUTH: [Measure; 4] = [
        Measure::DaneValid,
        Measure::StsEnforce,
        Measure::Authenticated,
        Measure::AtRisk,
    ];
    /// [`Measure::ALL`] then [`Measure::AUTH`].
    pub const WITH_AUTH: [Measure; 10] = [
        Measure::Starttls,
        Measure::Pfs,
        Measure::StrictValid,
        Measure::AllThree,
        Measure::WeakTls,
        Measure::Untestable,
        Measure::DaneValid,
        Measure::StsEnforce,
        Measure::Authenticated,
        Measure::AtRisk,
    ];

    /// Whether lower is better (weak TLS, untestable, at risk).
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Measure::WeakTls | Measure::Untestable | Measure::AtRisk
        )
    }
}

/// `part` of `whole` in percent (0 to 100); None for a share of nothing.
pub fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// 1970-01-01, day 0 of chart axes and roll-ups.
const EPOCH_DATE: Date = OffsetDateTime::UNIX_EPOCH.date();

/// Days from 1970-01-01 to `date`: the x coordinate of trend charts (and the roll-up key).
pub fn day_number(date: Date) -> i64 {
    i64::from(date.to_julian_day() - EPOCH_DATE.to_julian_day())
}

/// The date `day` days after 1970-01-01 (None outside the calendar's range).
pub fn date_of_day_number(day: i64) -> Option<Date> {
    let julian = i64::from(EPOCH_DATE.to_julian_day()).checked_add(day)?;
    Date::from_julian_day(i32::try_from(julian).ok()?).ok()
}

/// One point of a share series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharePoint {
    pub date: Date,
    /// The share in percent.
    pub percent: f64,
    /// The counts behind it: `count` of `out_of`.
    pub count: usize,
    pub out_of: usize,
}

/// One line of an adoption chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareSeries {
    pub measure: Measure,
    /// Oldest first; days whose denominator is zero have no point.
    pub points: Vec<SharePoint>,
}

/// One series per `measures` entry, in that order, over `basis`.
pub fn share_series(points: &[TrendPoint], basis: Basis, measures: &[Measure]) -> Vec<ShareSeries> {
    measures
        .iter()
        .map(|&measure| ShareSeries {
            measure,
            points: points
                .iter()
                .filter_map(|point| {
                    let (count, out_of) = point.fraction(basis, measure);
                    Some(SharePoint {
                        date: point.date,
                        percent: share(count, out_of)?,
                        count,
                        out_of,
                    })
                })
                .collect(),
        })
        .collect()
}

/// Adoption counts weighted by mail volume (the `volume` object of a trend point): each
/// domain adds its list weight ([`Weight`]; 1 when not given) wherever [`TrendCounts`] adds 1,
/// so "share of mail" is `x / testable` as for domains. Sums of f64: with weights of at most
/// [`Weight::MAX`] they cannot overflow. Counted through [`TrendCounts::add`], so a domain lands
/// in exactly the buckets it lands in there (the stale rule included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeCounts {
    /// The weight of every domain counted.
    pub total: f64,
    pub no_mail: f64,
    pub untestable: f64,
    /// The denominator of every share of mail.
    pub testable: f64,
    pub starttls: f64,
    pub pfs: f64,
    pub strict_valid: f64,
    pub all_three: f64,
    /// The weight of domains counted by their last known state (`model::stale`).
    #[serde(default)]
    pub stale: f64,
    /// The weight of testable domains whose TLS grades below sufficient (`model::tls_grade`).
    #[serde(default)]
    pub weak_tls: f64,
    /// The authenticated-transport counts weighted, as [`TrendCounts`]' (null together when no
    /// counted domain has the facts).
    #[serde(default)]
    pub auth_testable: Option<f64>,
    #[serde(default)]
    pub dane_valid: Option<f64>,
    #[serde(default)]
    pub dane_known: Option<f64>,
    #[serde(default)]
    pub sts_enforce: Option<f64>,
    #[serde(default)]
    pub authenticated: Option<f64>,
    #[serde(default)]
    pub at_risk: Option<f64>,
}

// Sums of finite, non-negative weights are never NaN, so equality is total.
impl Eq for VolumeCounts {}

impl VolumeCounts {
    /// Adds `counts` (of domains that all weigh `weight`) times `weight`.
    pub fn add_counts(&mut self, counts: &TrendCounts, weight: Weight) {
        self.add_scaled(counts, weight.get());
    }

    fn add_scaled(&mut self, counts: &TrendCounts, weight: f64) {
        let times = |count: usize| count as f64 * weight;
        self.total += times(counts.total);
        self.no_mail += times(counts.no_mail);
        self.untestable += times(counts.untestable);
        self.testable += times(counts.testable);
        self.starttls += times(counts.starttls);
        self.pfs += times(counts.pfs);
        self.strict_valid += times(counts.strict_valid);
        self.all_three += times(counts.all_three);
        self.stale += times(counts.stale);
        self.weak_tls += times(counts.weak_tls);
        let add = |field: &mut Option<f64>, count: Option<usize>| {
            if let Some(count) = count {
                *field = Some(field.unwrap_or(0.0) + times(count));
            }
        };
        add(&mut self.auth_testable, counts.auth_testable);
        add(&mut self.dane_valid, counts.dane_valid);
        add(&mut self.dane_known, counts.dane_known);
        add(&mut self.sts_enforce, counts.sts_enforce);
        add(&mut self.authenticated, counts.authenticated);
        add(&mut self.at_risk, counts.at_risk);
    }

    /// Counts domains that are all in `state` and weigh `weight_sum` together (a grouped
    /// query's row); a sum that is negative or not finite (only damage gives one) counts 0.
    pub fn add_group(&mut self, state: AdoptionState, weight_sum: f64) {
        let mut one = TrendCounts::default();
        one.add(state);
        let weight_sum = if weight_sum.is_finite() {
            weight_sum.max(0.0)
        } else {
            0.0
        };
        self.add_scaled(&one, weight_sum);
    }

    /// Counts one domain in `state` that weighs `weight`.
    pub fn add(&mut self, state: AdoptionState, weight: Weight) {
        let mut one = TrendCounts::default();
        one.add(state);
        self.add_counts(&one, weight);
    }

    /// Counts one domain by its last known state, kept while its latest probe is untestable:
    /// as that state, and once more in `stale` (as [`TrendCounts::add_stale`]).
    pub fn add_stale(&mut self, last_known: AdoptionState, weight: Weight) {
        let mut one = TrendCounts::default();
        one.add_stale(last_known);
        self.add_counts(&one, weight);
    }

    /// Counts a domain by its standing, as [`TrendCounts::add_standing`].
    pub fn add_standing(
        &mut self,
        latest: AdoptionState,
        last_known: Option<AdoptionState>,
        weight: Weight,
    ) {
        let mut one = TrendCounts::default();
        one.add_standing(latest, last_known);
        self.add_counts(&one, weight);
    }

    /// The weight of domains that take mail (all but null MX).
    pub fn takes_mail(&self) -> f64 {
        (self.total - self.no_mail).max(0.0)
    }

    /// `measure` as (part, whole), as [`TrendCounts::fraction`] has it.
    pub fn fraction(&self, measure: Measure) -> (f64, f64) {
        match measure {
            Measure::Starttls => (self.starttls, self.testable),
            Measure::Pfs => (self.pfs, self.testable),
            Measure::StrictValid => (self.strict_valid, self.testable),
            Measure::AllThree => (self.all_three, self.testable),
            Measure::WeakTls => (self.weak_tls, self.testable),
            Measure::Untestable => (self.untestable, self.takes_mail()),
            Measure::DaneValid => (
                self.dane_valid.unwrap_or(0.0),
                self.dane_known.unwrap_or(0.0),
            ),
            Measure::StsEnforce => (
                self.sts_enforce.unwrap_or(0.0),
                self.auth_testable.unwrap_or(0.0),
            ),
            Measure::Authenticated => (
                self.authenticated.unwrap_or(0.0),
                self.auth_testable.unwrap_or(0.0),
            ),
            Measure::AtRisk => (
                self.at_risk.unwrap_or(0.0),
                self.auth_testable.unwrap_or(0.0),
            ),
        }
    }
}

/// `part` of `whole` in percent for weighted counts; None when nothing weighs anything.
pub fn volume_share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (100.0 * part / whole).clamp(0.0, 100.0))
}

/// One point of a share series weighted by mail volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VolumeSharePoint {
    pub date: Date,
    /// The share of mail in percent.
    pub percent: f64,
    /// The weights behind it: `volume` of `out_of`.
    pub volume: f64,
    pub out_of: f64,
}

/// One line of an adoption chart by mail volume.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeShareSeries {
    pub measure: Measure,
    /// Oldest first; days from before weights existed, or with no testable weight, have no
    /// point.
    pub points: Vec<VolumeSharePoint>,
}

/// One series per `measures` entry, in that order, weighted by mail volume.
pub fn volume_share_series(points: &[TrendPoint], measures: &[Measure]) -> Vec<VolumeShareSeries> {
    measures
        .iter()
        .map(|&measure| VolumeShareSeries {
            measure,
            points: points
                .iter()
                .filter_map(|point| {
                    let (volume, out_of) = point.volume_fraction(measure)?;
                    Some(VolumeSharePoint {
                        date: point.date,
                        percent: volume_share(volume, out_of)?,
                        volume,
                        out_of,
                    })
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::model::DomainName;
    use crate::model::Outcome;
    use crate::model::test_support::{address, mx_host as host, trend_point as point};

    fn result(name: &str, at: i64, null_mx: bool, mx: Vec<MxResult>) -> DomainResult {
        let domain = DomainName::parse(name).expect("valid test domain");
        let at = OffsetDateTime::from_unix_timestamp(at).expect("in range");
        DomainResult::new(domain, null_mx, None, at, mx)
    }

    #[test]
    fn all_three_needs_starttls_pfs_and_strict() {
        let state = |starttls, pfs, strict| AdoptionState {
            verdict: Verdict::TlsOk,
            starttls,
            pfs,
            strict_valid: strict,
            weak_tls: false,
            auth: None,
        };
        assert!(state(true, true, true).all_three());
        assert!(!state(true, false, true).all_three());
        assert!(!state(true, true, false).all_three());
        let nulls = AdoptionState::new(Verdict::Untestable, None, None, None);
        assert!(!nulls.starttls && !nulls.is_testable());
    }

    #[test]
    fn counts_of_a_mixed_set_leave_no_mail_and_untestable_out_of_the_shares() {
        let results = [
            result(
                "good.example",
                0,
                false,
                vec![host(
                    "mx.good.example",
                    vec![address(Outcome::TlsOk, true, true)],
                )],
            ),
            result(
                "nopfs.example",
                0,
                false,
                vec![host(
                    "mx.nopfs.example",
                    vec![address(Outcome::TlsOk, false, true)],
                )],
            ),
            result(
                "plain.example",
                0,
                false,
                vec![host(
                    "mx.plain.example",
                    vec![address(Outcome::NoStarttls, false, false)],
                )],
            ),
            result(
                "failed.example",
                0,
                false,
                vec![host(
                    "mx.failed.example",
                    vec![address(Outcome::TlsFailed, false, false)],
                )],
            ),
            result(
                "gone.example",
                0,
                false,
                vec![host(
                    "mx.gone.example",
                    vec![address(Outcome::Untestable, false, false)],
                )],
            ),
            result("nomail.example", 0, true, vec![]),
        ];
        let mut counts = TrendCounts::default();
        for result in &results {
            counts.add(AdoptionState::of_domain(result));
        }
        assert_eq!(
            counts,
            TrendCounts {
                total: 6,
                no_mail: 1,
                untestable: 1,
                testable: 4,
                starttls: 2,
                pfs: 1,
                strict_valid: 2,
                all_three: 1,
                stale: 0,
                weak_tls: 0,
                ..Default::default()
            }
        );
        assert_eq!(counts.fraction(Measure::AllThree), (1, 4));
        assert_eq!(
            counts.fraction(Measure::Untestable),
            (1, 5),
            "of those taking mail"
        );
        let mut grouped = TrendCounts::default();
        grouped.add_many(AdoptionState::of_domain(&results[0]), 3);
        assert_eq!(
            (grouped.total, grouped.testable, grouped.all_three),
            (3, 3, 3)
        );
    }

    #[test]
    fn a_stale_domain_counts_by_its_last_known_state_and_once_in_stale() {
        let good = AdoptionState::new(Verdict::TlsOk, Some(true), Some(true), Some(true));
        let untestable = AdoptionState::new(Verdict::Untestable, None, None, None);
        let mut counts = TrendCounts::default();
        counts.add_standing(untestable, Some(good));
        counts.add_standing(untestable, None);
        counts.add_standing(good, None);
        assert_eq!(
            counts,
            TrendCounts {
                total: 3,
                no_mail: 0,
                untestable: 1,
                testable: 2,
                starttls: 2,
                pfs: 2,
                strict_valid: 2,
                all_three: 2,
                stale: 1,
                weak_tls: 0,
                ..Default::default()
            }
        );
        assert_eq!(
            counts.fraction(Measure::AllThree),
            (2, 2),
            "the headline holds"
        );
        let old: TrendCounts = serde_json::from_str(
            r#"{"total":1,"no_mail":0,"untestable":0,"testable":1,"starttls":1,"pfs":1,"strict_valid":1,"all_three":1}"#,
        )
        .expect("a roll-up written before the stale count reads");
        assert_eq!(old.stale, 0);
        assert_eq!(HostTrendCounts::from(counts.clone()).testable, 2);
    }

    #[test]
    fn weak_tls_counts_testable_domains_and_hosts_graded_below_sufficient() {
        let graded = |outcome, grade: Option<TlsGrade>| {
            let mut tls = address(outcome, true, true);
            tls.tls_grade = grade;
            tls
        };
        let results = [
            ("good.example", Some(TlsGrade::Good)),
            ("sufficient.example", Some(TlsGrade::Sufficient)),
            ("old.example", Some(TlsGrade::PhaseOut)),
            ("broken.example", Some(TlsGrade::Insufficient)),
            ("ungraded.example", None),
        ]
        .map(|(name, grade)| {
            let mx = format!("mx.{name}");
            result(
                name,
                0,
                false,
                vec![host(&mx, vec![graded(Outcome::TlsOk, grade)])],
            )
        });
        let mut counts = TrendCounts::default();
        let mut fold = HostFold::default();
        for result in &results {
            counts.add(AdoptionState::of_domain(result));
            fold.add_result(result);
        }
        assert_eq!((counts.testable, counts.weak_tls), (5, 2));
        assert_eq!(
            counts.all_three, 5,
            "all three keeps its definition: weak TLS is counted beside it"
        );
        assert_eq!(counts.fraction(Measure::WeakTls), (2, 5));
        assert_eq!(fold.counts().weak_tls, 2, "per unique MX host too");
        // One weak address among good ones makes the domain weak (the worst session wins).
        let mixed = result(
            "mixed.example",
            0,
            false,
            vec![
                host(
                    "mx1.mixed.example",
                    vec![graded(Outcome::TlsOk, Some(TlsGrade::Good))],
                ),
                host(
                    "mx2.mixed.example",
                    vec![graded(Outcome::TlsOk, Some(TlsGrade::PhaseOut))],
                ),
            ],
        );
        assert!(AdoptionState::of_domain(&mixed).weak_tls);
        // A stale domain counts weak by its last known state; an untestable one never does.
        let mut stale = TrendCounts::default();
        stale.add_stale(AdoptionState::of_domain(&results[2]));
        stale.add(
            AdoptionState::new(Verdict::Untestable, None, None, None)
                .with_tls_grade(Some(TlsGrade::Insufficient)),
        );
        assert_eq!((stale.weak_tls, stale.stale, stale.untestable), (1, 1, 1));
        let old: HostTrendCounts = serde_json::from_str(
            r#"{"total":1,"untestable":0,"testable":1,"starttls":1,"pfs":1,"strict_valid":1,"all_three":1}"#,
        )
        .expect("a roll-up written before weak_tls reads");
        assert_eq!(old.weak_tls, 0);
    }

    #[test]
    fn a_host_shared_by_two_domains_counts_once_by_its_latest_state() {
        let shared_good = host(
            "mx.provider.example",
            vec![address(Outcome::TlsOk, true, true)],
        );
        let shared_bad = host(
            "mx.provider.example",
            vec![address(Outcome::TlsOk, false, true)],
        );
        let own = host(
            "mx.own.example",
            vec![address(Outcome::Untestable, false, false)],
        );
        let mut fold = HostFold::default();
        // The later result wins whatever the order they come in.
        fold.add_result(&result("b.example", 200, false, vec![shared_bad.clone()]));
        fold.add_result(&result(
            "a.example",
            100,
            false,
            vec![shared_good.clone(), own],
        ));
        assert_eq!(fold.len(), 2);
        assert_eq!(
            fold.counts(),
            HostTrendCounts {
                total: 2,
                untestable: 1,
                testable: 1,
                starttls: 1,
                pfs: 0,
                strict_valid: 1,
                all_three: 0,
                weak_tls: 0,
                ..Default::default()
            }
        );
        let mut tie = HostFold::default();
        tie.add_result(&result("a.example", 100, false, vec![shared_good]));
        tie.add_result(&result("b.example", 100, false, vec![shared_bad]));
        assert_eq!(
            tie.counts().all_three,
            1,
            "a tie keeps the first state seen"
        );
    }

    #[test]
    fn series_are_percentages_and_skip_days_with_nothing_testable() {
        let points = [
            point(date!(2026 - 11 - 01), 10, 5, 0),
            point(date!(2026 - 11 - 02), 0, 0, 3),
            point(date!(2026 - 11 - 03), 8, 6, 2),
        ];
        let series = share_series(&points, Basis::Domains, &Measure::ALL);
        assert_eq!(series.len(), 6);
        let all_three = &series[3];
        assert_eq!(all_three.measure, Measure::AllThree);
        assert_eq!(
            all_three.points,
            [
                SharePoint {
                    date: date!(2026 - 11 - 01),
                    percent: 50.0,
                    count: 5,
                    out_of: 10
                },
                SharePoint {
                    date: date!(2026 - 11 - 03),
                    percent: 75.0,
                    count: 6,
                    out_of: 8
                },
            ],
            "0 testable on 11-02: no point, not 0 %"
        );
        assert_eq!(series[4].measure, Measure::WeakTls);
        let untestable = &series[5];
        assert_eq!(
            untestable.points.len(),
            3,
            "untestable is a share of all that take mail"
        );
        assert_eq!(untestable.points[1].percent, 100.0);
        assert_eq!(untestable.points[2].percent, 20.0);
        let hosts = share_series(&points, Basis::MxHosts, &[Measure::StrictValid]);
        assert_eq!(hosts[0].points[0].percent, 50.0, "2 of 4 MX hosts strict");
        assert_eq!(share(1, 3).map(|value| (value * 10.0).round()), Some(333.0));
        assert_eq!(share(1, 0), None);
    }

    #[test]
    fn day_numbers_count_from_1970_and_round_trip() {
        assert_eq!(day_number(date!(1970 - 01 - 01)), 0);
        assert_eq!(day_number(date!(2026 - 11 - 01)), 20_758);
        assert_eq!(date_of_day_number(20_758), Some(date!(2026 - 11 - 01)));
        assert_eq!(date_of_day_number(i64::MAX), None);
    }

    /// The trends JSON is a contract (DESIGN.md): pinned byte for byte.
    #[test]
    fn trends_json_keeps_its_shape() {
        let point = point(date!(2026 - 01 - 09), 3, 1, 1);
        let json = serde_json::to_string(&point.contract()).expect("serializes");
        assert_eq!(
            json,
            "{\"date\":\"2026-01-09\",\
             \"domains\":{\"total\":5,\"no_mail\":1,\"untestable\":1,\"testable\":3,\"starttls\":3,\"pfs\":1,\"strict_valid\":1,\"all_three\":1,\"stale\":0,\"weak_tls\":0,\
             \"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null},\
             \"mx_hosts\":{\"total\":4,\"untestable\":0,\"testable\":4,\"starttls\":4,\"pfs\":4,\"strict_valid\":2,\"all_three\":2,\"weak_tls\":0,\
             \"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null},\
             \"volume\":null}"
        );
        let pretty = serde_json::to_string_pretty(&[point.contract()]).expect("serializes");
        assert!(
            pretty.starts_with(
                "[\n  {\n    \"date\": \"2026-01-09\",\n    \"domains\": {\n      \"total\": 5,"
            ),
            "{pretty}"
        );
        // The full point (with the TLS mix) reads back, date included.
        let full = serde_json::to_string(&point).expect("serializes");
        let back: TrendPoint = serde_json::from_str(&full).expect("reads back");
        assert_eq!(back, point);
    }

    fn tls_ok(all_three: bool) -> AdoptionState {
        AdoptionState::new(Verdict::TlsOk, Some(true), Some(true), Some(all_three))
    }

    #[test]
    fn weighted_counts_add_each_domain_s_weight_where_the_domain_counts_add_one() {
        let plain = AdoptionState::new(Verdict::NoStarttls, Some(false), Some(false), Some(false));
        let untestable = AdoptionState::new(Verdict::Untestable, None, None, None);
        let no_mail = AdoptionState::new(Verdict::NoMail, None, None, None);
        let mut volume = VolumeCounts::default();
        let mut domains = TrendCounts::default();
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        for (state, weight) in [
            (tls_ok(true), weigh(900.0)),
            (tls_ok(false), weigh(50.0)),
            (plain, weigh(50.0)),
            (untestable, weigh(7.0)),
            (no_mail, weigh(3.0)),
            (tls_ok(true), Weight::ZERO),
        ] {
            volume.add(state, weight);
            domains.add(state);
        }
        assert_eq!(
            volume,
            VolumeCounts {
                total: 1010.0,
                no_mail: 3.0,
                untestable: 7.0,
                testable: 1000.0,
                starttls: 950.0,
                pfs: 950.0,
                strict_valid: 900.0,
                all_three: 900.0,
                stale: 0.0,
                weak_tls: 0.0,
                ..Default::default()
            }
        );
        assert_eq!(volume.fraction(Measure::AllThree), (900.0, 1000.0));
        assert_eq!(volume.fraction(Measure::Untestable), (7.0, 1007.0));
        assert_eq!(
            domains.fraction(Measure::AllThree),
            (2, 4),
            "a weight of 0 still counts as a domain"
        );
        // Missing weights are 1: the weighted counts are then the domain counts.
        let mut unweighted = VolumeCounts::default();
        unweighted.add_counts(&domains, Weight::default());
        assert_eq!(unweighted.testable, domains.testable as f64);
        assert_eq!(unweighted.all_three, domains.all_three as f64);
        assert_eq!(unweighted.total, domains.total as f64);
    }

    #[test]
    fn huge_weights_add_up_without_overflow_and_shares_stay_exact() {
        let mut volume = VolumeCounts::default();
        let max = Weight::new(Weight::MAX).expect("the largest weight");
        for index in 0..1_000_000 {
            volume.add(tls_ok(index % 2 == 0), max);
        }
        assert!(volume.testable.is_finite());
        // A million times 10^18, to f64 precision.
        assert!(
            (volume.testable / 1e24 - 1.0).abs() < 1e-9,
            "{}",
            volume.testable
        );
        let (part, whole) = volume.fraction(Measure::AllThree);
        let percent = volume_share(part, whole).expect("a share");
        assert!((percent - 50.0).abs() < 1e-9, "{percent}");
        assert_eq!(
            volume_share(0.0, 0.0),
            None,
            "nothing weighs anything: no share"
        );
        let mut only_zero = VolumeCounts::default();
        only_zero.add(tls_ok(true), Weight::ZERO);
        assert_eq!(only_zero.fraction(Measure::AllThree), (0.0, 0.0));
    }

    #[test]
    fn a_stale_domain_weighs_by_its_last_known_state_and_once_more_in_stale() {
        let untestable = AdoptionState::new(Verdict::Untestable, None, None, None);
        let weight = Weight::new(40.0).expect("a weight");
        let mut volume = VolumeCounts::default();
        volume.add_standing(untestable, Some(tls_ok(true)), weight);
        volume.add_standing(untestable, None, Weight::ONE);
        let mut domains = TrendCounts::default();
        domains.add_standing(untestable, Some(tls_ok(true)));
        domains.add_standing(untestable, None);
        assert_eq!(
            (
                volume.testable,
                volume.all_three,
                volume.stale,
                volume.untestable
            ),
            (40.0, 40.0, 40.0, 1.0)
        );
        assert_eq!(
            (domains.testable, domains.stale, domains.untestable),
            (1, 1, 1)
        );
        let mut direct = VolumeCounts::default();
        direct.add_stale(tls_ok(true), weight);
        direct.add(untestable, Weight::ONE);
        assert_eq!(direct, volume);
    }

    #[test]
    fn volume_series_skip_days_from_before_weights_and_days_with_nothing_testable() {
        let mut weighted = point(date!(2026 - 11 - 02), 2, 1, 0);
        let mut volume = VolumeCounts::default();
        volume.add(tls_ok(true), Weight::new(97.0).expect("a weight"));
        volume.add(tls_ok(false), Weight::new(3.0).expect("a weight"));
        weighted.volume = Some(volume);
        let mut nothing = point(date!(2026 - 11 - 03), 0, 0, 1);
        nothing.volume = Some(VolumeCounts::default());
        let points = [point(date!(2026 - 11 - 01), 2, 1, 0), weighted, nothing];
        let series = volume_share_series(&points, &[Measure::AllThree, Measure::Starttls]);
        assert_eq!(series[0].measure, Measure::AllThree);
        assert_eq!(
            series[0].points,
            [VolumeSharePoint {
                date: date!(2026 - 11 - 02),
                percent: 97.0,
                volume: 97.0,
                out_of: 100.0,
            }],
            "the old roll-up has no volume: no point, not 0 %"
        );
        assert_eq!(series[1].points[0].percent, 100.0);
        let json = serde_json::to_string(&points[1].contract()).expect("serializes");
        assert!(
            json.ends_with(
                "\"volume\":{\"total\":100.0,\"no_mail\":0.0,\"untestable\":0.0,\"testable\":100.0,\"starttls\":100.0,\"pfs\":100.0,\"strict_valid\":97.0,\"all_three\":97.0,\"stale\":0.0,\"weak_tls\":0.0,\"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null}}"
            ),
            "{json}"
        );
    }

    mod auth_counts {
        use super::*;
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts};
        use crate::model::test_support::with_auth;

        fn tls(name: &str, hosts: usize) -> DomainResult {
            let mx = (1..=hosts)
                .map(|index| {
                    host(
                        &format!("mx{index}.{name}"),
                        vec![address(Outcome::TlsOk, true, true)],
                    )
                })
                .collect();
            result(name, 0, false, mx)
        }

        /// valid, failed, unknown, none + enforce_ok, an old result, an untestable domain.
        fn mixed() -> Vec<DomainResult> {
            let mut untestable = result(
                "gone.example",
                0,
                false,
                vec![host(
                    "mx.gone.example",
                    vec![address(Outcome::Untestable, false, false)],
                )],
            );
            untestable.judge_sender();
            vec![
                with_auth(tls("valid.example", 1), &[Dane::Valid], Sts::None),
                with_auth(tls("failed.example", 1), &[Dane::Failed], Sts::None),
                with_auth(tls("blind.example", 1), &[Dane::Unknown], Sts::None),
                with_auth(tls("sts.example", 1), &[Dane::None], Sts::EnforceOk),
                tls("old.example", 1),
                untestable,
            ]
        }

        #[test]
        fn counts_of_testable_domains_with_the_facts_and_unknown_out_of_the_dane_denominator() {
            let mut counts = TrendCounts::default();
            for result in &mixed() {
                counts.add(AdoptionState::of_domain(result));
            }
            assert_eq!((counts.testable, counts.untestable), (5, 1));
            assert_eq!(
                (
                    counts.auth_testable,
                    counts.dane_valid,
                    counts.dane_known,
                    counts.sts_enforce,
                    counts.authenticated,
                    counts.at_risk
                ),
                (Some(4), Some(1), Some(3), Some(1), Some(2), Some(1)),
                "the old result is in none of them; unknown is not in dane_known"
            );
            assert_eq!(counts.fraction(Measure::DaneValid), (1, 3));
            assert_eq!(counts.fraction(Measure::StsEnforce), (1, 4));
            assert_eq!(counts.fraction(Measure::Authenticated), (2, 4));
            assert_eq!(counts.fraction(Measure::AtRisk), (1, 4));
            assert_eq!(
                counts.all_three, 5,
                "the opportunistic counts are unchanged"
            );
        }

        #[test]
        fn counts_without_any_facts_are_null_not_zero_and_old_roll_ups_read_as_null() {
            let mut counts = TrendCounts::default();
            counts.add(AdoptionState::of_domain(&tls("old.example", 1)));
            assert_eq!(counts.testable, 1);
            assert_eq!(
                (counts.auth_testable, counts.dane_valid, counts.at_risk),
                (None, None, None)
            );
            assert_eq!(counts.fraction(Measure::Authenticated), (0, 0), "no share");
            let json = serde_json::to_string(&counts).expect("serializes");
            assert!(
                json.ends_with(
                    "\"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\
                     \"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null}"
                ),
                "{json}"
            );
            let old: TrendCounts = serde_json::from_str(
                r#"{"total":1,"no_mail":0,"untestable":0,"testable":1,"starttls":1,"pfs":1,"strict_valid":1,"all_three":1}"#,
            )
            .expect("a roll-up from before reads");
            assert_eq!(old.authenticated, None);
            let points = [TrendPoint {
                domains: old,
                ..point(time::macros::date!(2026 - 11 - 01), 1, 1, 0)
            }];
            let series = share_series(&points, Basis::Domains, &Measure::AUTH);
            assert!(
                series.iter().all(|series| series.points.is_empty()),
                "a day before the facts has no point, not 0 %"
            );
            // Facts on a domain whose every flag is false: zeros, not null.
            let mut none = TrendCounts::default();
            none.add(AdoptionState::of_domain(&with_auth(
                tls("plain.example", 1),
                &[Dane::None],
                Sts::None,
            )));
            assert_eq!(
                (
                    none.auth_testable,
                    none.dane_valid,
                    none.dane_known,
                    none.at_risk
                ),
                (Some(1), Some(0), Some(1), Some(0))
            );
        }

        #[test]
        fn a_stale_domain_counts_by_its_last_known_facts_and_weights_add_up() {
            let untestable = AdoptionState::new(Verdict::Untestable, None, None, None);
            let known = AdoptionState::of_domain(&with_auth(
                tls("valid.example", 1),
                &[Dane::Valid],
                Sts::None,
            ));
            let mut counts = TrendCounts::default();
            counts.add_standing(untestable, Some(known));
            assert_eq!(
                (
                    counts.stale,
                    counts.auth_testable,
                    counts.dane_valid,
                    counts.authenticated
                ),
                (1, Some(1), Some(1), Some(1))
            );
            let mut volume = VolumeCounts::default();
            volume.add_standing(
                untestable,
                Some(known),
                Weight::new(40.0).expect("a weight"),
            );
            for result in &mixed() {
                volume.add(
                    AdoptionState::of_domain(result),
                    Weight::new(10.0).expect("weight"),
                );
            }
            assert_eq!(volume.auth_testable, Some(80.0));
            assert_eq!(volume.dane_valid, Some(50.0));
            assert_eq!(volume.dane_known, Some(70.0));
            assert_eq!(volume.fraction(Measure::AtRisk), (10.0, 80.0));
            let mut old = VolumeCounts::default();
            old.add(
                AdoptionState::of_domain(&tls("old.example", 1)),
                Weight::ONE,
            );
            assert_eq!((old.testable, old.authenticated), (1.0, None));
        }

        #[test]
        fn unique_mx_hosts_count_by_the_sender_rule_over_each_host() {
            // Two hosts, one DANE valid and one failing: the domain is degraded (authenticated
            // and at risk); each host counts by itself.
            let degraded = with_auth(
                tls("two.example", 2),
                &[Dane::Valid, Dane::Failed],
                Sts::None,
            );
            let sender = degraded.sender.expect("a sender view");
            assert!(sender.authenticated && sender.at_risk);
            let mut fold = HostFold::default();
            fold.add_result(&degraded);
            fold.add_result(&tls("old.example", 1));
            let hosts = fold.counts();
            assert_eq!(hosts.testable, 3);
            assert_eq!(
                (
                    hosts.auth_testable,
                    hosts.dane_valid,
                    hosts.dane_known,
                    hosts.authenticated,
                    hosts.at_risk
                ),
                (Some(2), Some(1), Some(2), Some(1), Some(1))
            );
            // An enforce policy that does not list the second host: that host is at risk.
            let mismatch = with_auth(
                tls("sts.example", 2),
                &[Dane::None, Dane::None],
                Sts::MxMismatch,
            );
            let mut fold = HostFold::default();
            fold.add_result(&mismatch);
            let hosts = fold.counts();
            assert_eq!(
                (hosts.sts_enforce, hosts.authenticated, hosts.at_risk),
                (Some(2), Some(1), Some(1))
            );
        }
    }
}
