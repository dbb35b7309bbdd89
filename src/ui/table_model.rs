//! The domains table's data side: all rows of the selected list (compact, [`TableRows`]), the
//! filtered and sorted view of them, and the selection. Rebuilt only when rows, filter or sort
//! change — never per frame — so drawing 1M rows costs only the visible ones; a table larger
//! than [`INLINE_REBUILD_ROWS`] is rebuilt on a background thread (sort keys computed once per
//! row, then one integer sort), the previous view shown meanwhile.
//!
//! Owns: filtering, sorting, selection (by domain, so it survives re-sorting and reloads),
//! keyboard cursor movement, and which columns are hidden ([`HiddenColumns`], the rule that the
//! Domain column always shows). Must not touch: drawing, the monitor.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError};

use serde::{Deserialize, Serialize};

use super::style::Grade;
use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
use crate::model::{DomainName, Weight};
use crate::monitor::view::LatestRow;
pub use crate::monitor::view::rows::TableRows;
use crate::monitor::view::rows::{RowRef, WordId};

/// A sortable column of the domains table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortColumn {
    Domain,
    Verdict,
    Starttls,
    Pfs,
    Strict,
    TlsVersion,
    CertExpiry,
    Provider,
    MxCount,
    LastProbed,
    LastChange,
    /// The domain's weight (mail volume) in the list and its share of the list's mail.
    Weight,
    /// The domain's `dane`, in words.
    Dane,
    /// The domain's `mta_sts.outcome`, in words.
    MtaSts,
}

impl SortColumn {
    /// Every column in table order.
    pub const ALL: [SortColumn; 14] = [
        SortColumn::Domain,
        // Beside the name: the few heavy domains that decide the share of mail stand out.
        SortColumn::Weight,
        SortColumn::Verdict,
        SortColumn::Starttls,
        SortColumn::Pfs,
        SortColumn::Strict,
        SortColumn::Dane,
        SortColumn::MtaSts,
        SortColumn::TlsVersion,
        SortColumn::CertExpiry,
        SortColumn::Provider,
        SortColumn::MxCount,
        SortColumn::LastProbed,
        SortColumn::LastChange,
    ];

    /// Column heading.
    pub fn title(self) -> &'static str {
        match self {
            SortColumn::Domain => "Domain",
            SortColumn::Verdict => "Verdict",
            SortColumn::Starttls => "STARTTLS",
            SortColumn::Pfs => "PFS",
            SortColumn::Strict => "Strict",
            SortColumn::TlsVersion => "TLS",
            SortColumn::CertExpiry => "Cert expires",
            SortColumn::Provider => "Provider",
            SortColumn::MxCount => "MX",
            SortColumn::LastProbed => "Last probed",
            SortColumn::LastChange => "Last change",
            SortColumn::Weight => "Mail volume",
            SortColumn::Dane => "DANE",
            SortColumn::MtaSts => "MTA-STS",
        }
    }
}

/// Sort column and direction; saved across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortOrder {
    pub column: SortColumn,
    pub ascending: bool,
}

impl Default for SortOrder {
    fn default() -> Self {
        Self {
            column: SortColumn::Domain,
            ascending: true,
        }
    }
}

/// The table columns the user hid (from the Columns menu); saved across restarts. The Domain
/// column can never be hidden: a saved list that names it loads without it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<SortColumn>", into = "Vec<SortColumn>")]
pub struct HiddenColumns {
    /// In [`SortColumn::ALL`] order, without duplicates, never [`SortColumn::Domain`].
    hidden: Vec<SortColumn>,
}

impl HiddenColumns {
    /// Whether `column` is drawn.
    pub fn is_shown(&self, column: SortColumn) -> bool {
        !self.hidden.contains(&column)
    }

    /// Shows or hides `column` (the Domain column stays shown whatever is asked).
    pub fn set_shown(&mut self, column: SortColumn, shown: bool) {
        let hidden: Vec<SortColumn> = self
            .hidden
            .iter()
            .copied()
            .filter(|&other| other != column)
            .chain((!shown).then_some(column))
            .collect();
        *self = Self::from(hidden);
    }

    /// The columns drawn, in table order (the Domain column first, always).
    pub fn shown(&self) -> Vec<SortColumn> {
        SortColumn::ALL
            .into_iter()
            .filter(|&column| self.is_shown(column))
            .collect()
    }

    /// How many columns are hidden.
    pub fn hidden_count(&self) -> usize {
        self.hidden.len()
    }
}

impl From<Vec<SortColumn>> for HiddenColumns {
    fn from(hidden: Vec<SortColumn>) -> Self {
        let hidden = SortColumn::ALL
            .into_iter()
            .filter(|column| *column != SortColumn::Domain && hidden.contains(column))
            .collect();
        Self { hidden }
    }
}

impl From<HiddenColumns> for Vec<SortColumn> {
    fn from(columns: HiddenColumns) -> Self {
        columns.hidden
    }
}

/// Tables of up to this many rows are filtered and sorted inside the frame that asks; larger
/// ones on a background thread, the previous view staying on screen until the new one is ready
/// (a million rows take longer than a frame).
pub const INLINE_REBUILD_ROWS: usize = 50_000;

/// Rows, their filtered/sorted view, and the selection.
#[derive(Default)]
pub struct TableModel {
    /// Every row of the list, by domain name: what `view` indexes.
    rows: Arc<TableRows>,
    /// A new snapshot's rows, while their view is being built (shown once it is).
    next_rows: Option<Arc<TableRows>>,
    /// What the table shows, and the counts for the filter menus.
    view: Built,
    /// The background rebuild, when one runs.
    job: Option<Receiver<Built>>,
    /// Filters, sort or rows changed while the job ran: it is out of date.
    job_outdated: bool,
    /// Results that arrived while a job was reading the rows, applied when it ends.
    pending_updates: Vec<LatestRow>,
    filter_text: String,
    grade_filter: Option<Grade>,
    sort: SortOrder,
    selected: HashSet<DomainName>,
    /// The row the keyboard and the detail panel follow.
    cursor: Option<DomainName>,
    /// Where a shift-click range starts.
    anchor: Option<DomainName>,
    /// Rows changed since the last rebuild (updated in place while a scan runs).
    stale: bool,
    /// The sum of the weights of the list's domains.
    weight_total: f64,
    /// Only rows whose certificate ends within this many days (or has ended).
    expiry_within_days: Option<u32>,
    /// Only rows of this mail provider (`model::provider_of` of the primary MX).
    provider_filter: Option<String>,
    /// Rows grouped by provider, largest group first, the sort order within each group.
    group_by_provider: bool,
    /// Only rows with this `dane` (`Some(None)`: not looked up); None: all.
    dane_filter: Option<Option<DaneSetStatus>>,
    /// Only rows with this MTA-STS outcome (`Some(None)`: not looked up); None: all.
    mta_sts_filter: Option<Option<MtaStsOutcome>>,
}

/// A view of the rows: which are shown in which order, and the counts over all rows.
#[derive(Debug, Default)]
struct Built {
    /// Indexes into the rows: what the table shows, in order.
    visible: Vec<u32>,
    /// Rows per grade over all rows (for the filter menu).
    grade_counts: BTreeMap<Grade, usize>,
    /// Rows per provider over all rows, largest first (then by name), for the filter menu.
    provider_counts: Vec<(String, usize)>,
    /// Rows per [`DANE_VALUES`] entry over all rows, for the filter menu.
    dane_counts: [usize; DANE_VALUES.len()],
    /// Rows per [`MTA_STS_VALUES`] entry over all rows, for the filter menu.
    mta_sts_counts: [usize; MTA_STS_VALUES.len()],
}

/// The DANE column's values best first, then "not looked up": its sort order and filter menu.
pub const DANE_VALUES: [Option<DaneSetStatus>; 8] = [
    Some(DaneSetStatus::ALL[0]),
    Some(DaneSetStatus::ALL[1]),
    Some(DaneSetStatus::ALL[2]),
    Some(DaneSetStatus::ALL[3]),
    Some(DaneSetStatus::ALL[4]),
    Some(DaneSetStatus::ALL[5]),
    Some(DaneSetStatus::ALL[6]),
    None,
];

/// The MTA-STS column's values best first, then "not looked up".
pub const MTA_STS_VALUES: [Option<MtaStsOutcome>; 9] = [
    Some(MtaStsOutcome::ALL[0]),
    Some(MtaStsOutcome::ALL[1]),
    Some(MtaStsOutcome::ALL[2]),
    Some(MtaStsOutcome::ALL[3]),
    Some(MtaStsOutcome::ALL[4]),
    Some(MtaStsOutcome::ALL[5]),
    Some(MtaStsOutcome::ALL[6]),
    Some(MtaStsOutcome::ALL[7]),
    None,
];

/// Where `value` sorts among `values` (its index).
fn rank_of<T: PartialEq>(values: &[T], value: &T) -> usize {
    values
        .iter()
        .position(|candidate| candidate == value)
        .unwrap_or(values.len())
}

/// The filters and the sort a view is built with.
#[derive(Clone, Debug)]
struct ViewParams {
    /// The text filter, trimmed and lower case ("": none).
    needle: String,
    grade: Option<Grade>,
    /// Only certificates ending by then (Unix seconds).
    expiry_cutoff: Option<i64>,
    provider: Option<String>,
    dane: Option<Option<DaneSetStatus>>,
    mta_sts: Option<Option<MtaStsOutcome>>,
    sort: SortOrder,
    group_by_provider: bool,
}

/// [`ViewParams`] resolved against one set of rows (texts to interned ids).
struct Filter<'a> {
    params: &'a ViewParams,
    /// None: no provider filter; `Some(None)`: a provider no row has.
    provider: Option<Option<WordId>>,
    /// Per interned text: whether it contains the needle.
    word_matches: Vec<bool>,
}

impl<'a> Filter<'a> {
    fn new(rows: &TableRows, params: &'a ViewParams) -> Self {
        let words = rows.words();
        Self {
            params,
            provider: params
                .provider
                .as_deref()
                .map(|provider| words.id_of(provider)),
            word_matches: match params.needle.is_empty() {
                true => Vec::new(),
                false => (0..words.len())
                    .map(|index| words.text_at(index).contains(&params.needle))
                    .collect(),
            },
        }
    }

    /// Whether `row` passes every filter.
    fn keeps(&self, row: &RowRef<'_>) -> bool {
        let params = self.params;
        params.grade.is_none_or(|grade| row.grade() == grade)
            && params.expiry_cutoff.is_none_or(|cutoff| {
                row.cert_not_after_seconds()
                    .is_some_and(|not_after| not_after <= cutoff)
            })
            && params.dane.is_none_or(|dane| row.auth().dane == dane)
            && params
                .mta_sts
                .is_none_or(|outcome| row.auth().mta_sts == outcome)
            && self
                .provider
                .is_none_or(|provider| provider.is_some() && row.provider_id() == provider)
            && (params.needle.is_empty() || self.matches_text(row))
    }

    /// The text filter: the domain in its ASCII or its Unicode form, or the provider.
    fn matches_text(&self, row: &RowRef<'_>) -> bool {
        let needle = self.params.needle.as_str();
        let name = row.domain();
        name.contains(needle)
            // The Unicode form only where it may differ (a punycode label): no string per row
            // else.
            || (name.contains("xn--")
                && DomainName::parse(name).is_ok_and(|domain| {
                    matches!(domain.display_name(),
                        Cow::Owned(unicode) if unicode.to_lowercase().contains(needle))
                }))
            || row
                .provider_id()
                .is_some_and(|id| self.word_matches.get(id.index()) == Some(&true))
    }
}

/// Builds the view of `rows`: the counts over all rows, and the rows that pass the filters in
/// the sort order (ties by name).
fn build(rows: &TableRows, params: &ViewParams) -> Built {
    let mut built = Built::default();
    let mut grades = [0usize; Grade::ALL.len()];
    let mut providers = vec![0usize; rows.words().len()];
    for row in rows.iter() {
        if let Some(count) = grades.get_mut(row.grade() as usize) {
            *count += 1;
        }
        if let Some(count) = built
            .dane_counts
            .get_mut(rank_of(&DANE_VALUES, &row.auth().dane))
        {
            *count += 1;
        }
        if let Some(count) = built
            .mta_sts_counts
            .get_mut(rank_of(&MTA_STS_VALUES, &row.auth().mta_sts))
        {
            *count += 1;
        }
        if let Some(count) = row
            .provider_id()
            .and_then(|id| providers.get_mut(id.index()))
        {
            *count += 1;
        }
    }
    built.grade_counts = Grade::ALL
        .into_iter()
        .filter_map(|grade| {
            let count = grades.get(grade as usize).copied().unwrap_or(0);
            (count > 0).then_some((grade, count))
        })
        .collect();
    let mut provider_ids: Vec<usize> = (0..providers.len())
        .filter(|&index| providers[index] > 0)
        .collect();
    let words = rows.words();
    provider_ids.sort_by(|&a, &b| {
        providers[b]
            .cmp(&providers[a])
            .then_with(|| words.text_at(a).cmp(words.text_at(b)))
    });
    built.provider_counts = provider_ids
        .iter()
        .map(|&index| (words.text_at(index).to_string(), providers[index]))
        .collect();

    let filter = Filter::new(rows, params);
    let visible = rows
        .iter()
        .filter(|row| filter.keeps(row))
        .map(|row| row.index() as u32);
    let sort = params.sort;
    if !params.group_by_provider && sort.column == SortColumn::Domain {
        // Rows are kept in name order: the filtered indexes already are.
        built.visible = visible.collect();
        if !sort.ascending {
            built.visible.reverse();
        }
        return built;
    }
    let keys = SortKeys::new(rows);
    // The column's key (reversed when descending) above the index: ties go by name, which is
    // index order, whatever the direction.
    let ordered = |index: u32| -> u128 {
        let key = rows
            .get(index as usize)
            .map_or(MISSING, |row| keys.of(&row, sort.column));
        let key = if sort.ascending { key } else { KEY_MASK - key };
        key << 32 | u128::from(index)
    };
    if params.group_by_provider {
        // Largest provider first; rows without one last; the sort order within.
        let mut group_of = vec![u32::MAX; words.len()];
        for (rank, &index) in provider_ids.iter().enumerate() {
            if let Some(slot) = group_of.get_mut(index) {
                *slot = rank as u32;
            }
        }
        let mut keyed: Vec<(u32, u128)> = visible
            .map(|index| {
                let group = rows
                    .get(index as usize)
                    .and_then(|row| row.provider_id())
                    .and_then(|id| group_of.get(id.index()).copied())
                    .unwrap_or(u32::MAX);
                (group, ordered(index))
            })
            .collect();
        keyed.sort_unstable();
        built.visible = keyed.into_iter().map(|(_, key)| key as u32).collect();
    } else {
        let mut keyed: Vec<u128> = visible.map(ordered).collect();
        keyed.sort_unstable();
        built.visible = keyed.into_iter().map(|key| key as u32).collect();
    }
    built
}

/// A missing value's key: after every present one (ascending).
const MISSING: u128 = 1 << 64;
/// Every key is at most this (present values below [`MISSING`]).
const KEY_MASK: u128 = (1 << 65) - 1;

/// What sort keys need besides a row: the interned texts' order, the weights.
struct SortKeys<'a> {
    rows: &'a TableRows,
    word_ranks: Vec<u32>,
}

impl<'a> SortKeys<'a> {
    fn new(rows: &'a TableRows) -> Self {
        Self {
            rows,
            word_ranks: rows.words().ranks(),
        }
    }

    /// `row`'s key for `column`: keys order as the column's values do, missing values last
    /// (ascending), in 65 bits.
    fn of(&self, row: &RowRef<'_>, column: SortColumn) -> u128 {
        fn present_or_missing(value: Option<u64>) -> u128 {
            value.map_or(MISSING, u128::from)
        }
        /// Signed seconds in unsigned order.
        fn seconds(value: Option<i64>) -> u128 {
            present_or_missing(value.map(|seconds| (seconds as u64) ^ (1 << 63)))
        }
        /// Yes before no before unknown.
        fn yes_first(value: Option<bool>) -> u128 {
            present_or_missing(value.map(|value| u64::from(!value)))
        }
        let word = |id: Option<WordId>| {
            present_or_missing(
                id.and_then(|id| self.word_ranks.get(id.index()))
                    .map(|&rank| u64::from(rank)),
            )
        };
        match column {
            SortColumn::Domain => row.index() as u128,
            SortColumn::Verdict => row.grade() as u128,
            SortColumn::Starttls => yes_first(row.starttls()),
            SortColumn::Pfs => yes_first(row.pfs()),
            SortColumn::Strict => yes_first(row.strict_valid()),
            SortColumn::TlsVersion => word(row.tls_version_id()),
            SortColumn::CertExpiry => seconds(row.cert_not_after_seconds()),
            SortColumn::Provider => word(row.provider_id()),
            SortColumn::MxCount => row.mx_count() as u128,
            SortColumn::LastProbed => seconds(row.last_probed_seconds()),
            SortColumn::LastChange => seconds(row.state_since_seconds()),
            SortColumn::Weight => {
                // `f64::total_cmp`'s order (a weight is never NaN) in unsigned bits.
                let bits = self.rows.weight(row.index()).get().to_bits();
                u128::from(if bits >> 63 == 1 {
                    !bits
                } else {
                    bits | 1 << 63
                })
            }
            SortColumn::Dane => rank_of(&DANE_VALUES, &row.auth().dane) as u128,
            SortColumn::MtaSts => rank_of(&MTA_STS_VALUES, &row.auth().mta_sts) as u128,
        }
    }
}

impl TableModel {
    /// Replaces all rows (a fresh snapshot); keeps filter, sort and the selection of domains
    /// that are still there. A large table shows the new rows once their view is built.
    pub fn set_rows(&mut self, rows: TableRows) {
        self.next_rows = Some(Arc::new(rows));
        self.rebuild();
    }

    /// Replaces the weights (mail volume) of the list's domains; a domain without one weighs
    /// 1. (A snapshot's rows carry their weights: [`Self::set_weight_total`] is enough then.)
    pub fn set_weights(&mut self, weights: HashMap<DomainName, Weight>, weight_total: f64) {
        let newest = self.next_rows.as_mut().unwrap_or(&mut self.rows);
        Arc::make_mut(newest).set_weights(&weights);
        self.weight_total = weight_total;
        if self.sort.column == SortColumn::Weight {
            self.rebuild();
        }
    }

    /// Sets the sum of the list's weights (the whole of "share of the list's mail").
    pub fn set_weight_total(&mut self, weight_total: f64) {
        self.weight_total = weight_total;
    }

    /// The newest rows (a snapshot's whose view is not built yet, else those shown).
    fn newest(&self) -> &TableRows {
        self.next_rows.as_deref().unwrap_or(&self.rows)
    }

    /// The weight of `domain` in the list (1 when none was given).
    pub fn weight_of(&self, domain: &DomainName) -> Weight {
        let rows = self.newest();
        rows.index_of(domain.as_str())
            .map_or(Weight::ONE, |index| rows.weight(index))
    }

    /// `domain`'s share of the list's mail in percent (None when the list weighs nothing).
    pub fn mail_share(&self, domain: &DomainName) -> Option<f64> {
        crate::model::adoption::volume_share(self.weight_of(domain).get(), self.weight_total)
    }

    /// Updates one row in place (a result that just arrived); ignored when the domain is not
    /// in this list. The view is rebuilt by [`Self::rebuild_if_stale`].
    pub fn update_row(&mut self, row: LatestRow) -> bool {
        if self.newest().index_of(row.domain.as_str()).is_none() {
            return false;
        }
        let newest = self.next_rows.as_mut().unwrap_or(&mut self.rows);
        match Arc::get_mut(newest) {
            Some(rows) => {
                rows.update(&row);
                self.stale = true;
            }
            // A rebuild is reading them: after it.
            None => self.pending_updates.push(row),
        }
        true
    }

    /// The latest row of `domain`, if it is in this list.
    pub fn row_of(&self, domain: &DomainName) -> Option<LatestRow> {
        if let Some(row) = self
            .pending_updates
            .iter()
            .rev()
            .find(|row| row.domain == *domain)
        {
            return Some(row.clone());
        }
        let rows = self.newest();
        rows.index_of(domain.as_str())
            .and_then(|index| rows.to_row(index))
    }

    /// Rebuilds the view when rows changed in place since the last rebuild.
    pub fn rebuild_if_stale(&mut self) {
        if self.stale {
            self.rebuild();
        }
    }

    /// Takes the background rebuild's view when it is ready (call every frame).
    pub fn poll(&mut self) {
        let Some(job) = &self.job else {
            return;
        };
        let built = match job.try_recv() {
            Ok(built) => Some(built),
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => None,
        };
        self.job = None;
        match built {
            Some(built) if !self.job_outdated => self.show(built),
            // Out of date, or the thread died: again, from what is there now.
            _ => {
                self.job_outdated = false;
                self.rebuild();
            }
        }
    }

    /// Whether a background rebuild runs (the table asks for frames until it is done).
    pub fn is_rebuilding(&self) -> bool {
        self.job.is_some()
    }

    /// Sets the text filter (case-insensitive, matches the domain in its ASCII or its Unicode
    /// form, or the provider).
    pub fn set_filter_text(&mut self, text: &str) {
        if self.filter_text != text {
            self.filter_text = text.to_string();
            self.rebuild();
        }
    }

    /// The current text filter.
    pub fn filter_text(&self) -> &str {
        &self.filter_text
    }

    /// Shows only rows of `grade` (None: all).
    pub fn set_grade_filter(&mut self, grade: Option<Grade>) {
        if self.grade_filter != grade {
            self.grade_filter = grade;
            self.rebuild();
        }
    }

    /// The current grade filter.
    pub fn grade_filter(&self) -> Option<Grade> {
        self.grade_filter
    }

    /// Shows only rows whose certificate ends within `days` days from now, expired ones
    /// included (None: all).
    pub fn set_expiry_filter(&mut self, days: Option<u32>) {
        if self.expiry_within_days != days {
            self.expiry_within_days = days;
            self.rebuild();
        }
    }

    /// The "expires within N days" filter.
    pub fn expiry_filter(&self) -> Option<u32> {
        self.expiry_within_days
    }

    /// Shows only rows of `provider` (None: all).
    pub fn set_provider_filter(&mut self, provider: Option<String>) {
        if self.provider_filter != provider {
            self.provider_filter = provider;
            self.rebuild();
        }
    }

    /// The provider filter.
    pub fn provider_filter(&self) -> Option<&str> {
        self.provider_filter.as_deref()
    }

    /// Shows only rows whose DANE is `dane` (`Some(None)`: not looked up; None: all).
    pub fn set_dane_filter(&mut self, dane: Option<Option<DaneSetStatus>>) {
        if self.dane_filter != dane {
            self.dane_filter = dane;
            self.rebuild();
        }
    }

    /// The DANE filter.
    pub fn dane_filter(&self) -> Option<Option<DaneSetStatus>> {
        self.dane_filter
    }

    /// Shows only rows whose MTA-STS outcome is `outcome` (`Some(None)`: not looked up; None:
    /// all).
    pub fn set_mta_sts_filter(&mut self, outcome: Option<Option<MtaStsOutcome>>) {
        if self.mta_sts_filter != outcome {
            self.mta_sts_filter = outcome;
            self.rebuild();
        }
    }

    /// The MTA-STS filter.
    pub fn mta_sts_filter(&self) -> Option<Option<MtaStsOutcome>> {
        self.mta_sts_filter
    }

    /// Rows of the whole list per DANE value, in [`DANE_VALUES`] order.
    pub fn dane_counts(&self) -> impl Iterator<Item = (Option<DaneSetStatus>, usize)> + '_ {
        DANE_VALUES.into_iter().zip(self.view.dane_counts)
    }

    /// Rows of the whole list per MTA-STS outcome, in [`MTA_STS_VALUES`] order.
    pub fn mta_sts_counts(&self) -> impl Iterator<Item = (Option<MtaStsOutcome>, usize)> + '_ {
        MTA_STS_VALUES.into_iter().zip(self.view.mta_sts_counts)
    }

    /// Rows per provider over the whole list, largest first (then by name).
    pub fn provider_counts(&self) -> &[(String, usize)] {
        &self.view.provider_counts
    }

    /// Groups rows by provider (largest group first; the sort order applies within a group).
    pub fn set_group_by_provider(&mut self, group: bool) {
        if self.group_by_provider != group {
            self.group_by_provider = group;
            self.rebuild();
        }
    }

    /// Whether rows are grouped by provider.
    pub fn group_by_provider(&self) -> bool {
        self.group_by_provider
    }

    /// The shown row at `position`, to read.
    fn shown(&self, position: usize) -> Option<RowRef<'_>> {
        let index = *self.view.visible.get(position)?;
        self.rows.get(index as usize)
    }

    /// When grouped: the provider and its row count if the row at `position` starts a group.
    pub fn group_start(&self, position: usize) -> Option<(&str, usize)> {
        if !self.group_by_provider {
            return None;
        }
        let provider = |position: usize| {
            self.shown(position)
                .map(|row| row.provider().unwrap_or("no provider"))
        };
        let this = provider(position)?;
        if position > 0 && provider(position - 1) == Some(this) {
            return None;
        }
        let size = (position..self.view.visible.len())
            .take_while(|&next| provider(next) == Some(this))
            .count();
        Some((this, size))
    }

    /// Sorts by `sort`.
    pub fn set_sort(&mut self, sort: SortOrder) {
        if self.sort != sort {
            self.sort = sort;
            self.rebuild();
        }
    }

    /// The current sort order.
    pub fn sort(&self) -> SortOrder {
        self.sort
    }

    /// Clicking a heading: sort by it, or flip the direction when it is already the key.
    pub fn click_heading(&mut self, column: SortColumn) {
        let ascending = if self.sort.column == column {
            !self.sort.ascending
        } else {
            // The heaviest domains first: the few that decide the share of mail.
            column != SortColumn::Weight
        };
        self.set_sort(SortOrder { column, ascending });
    }

    /// How many rows pass the filters.
    pub fn visible_len(&self) -> usize {
        self.view.visible.len()
    }

    /// All rows of the list.
    pub fn total_len(&self) -> usize {
        self.rows.len()
    }

    /// Every row of the list, by domain name (compact; [`TableRows::to_row`] gives one whole).
    pub fn rows(&self) -> &TableRows {
        &self.rows
    }

    /// The row shown at `position`.
    pub fn visible_row(&self, position: usize) -> Option<LatestRow> {
        self.shown(position).and_then(|row| row.to_latest())
    }

    /// Where `domain` is shown, if it passes the filters.
    pub fn position_of(&self, domain: &DomainName) -> Option<usize> {
        let index = self.rows.index_of(domain.as_str())? as u32;
        self.view.visible.iter().position(|&shown| shown == index)
    }

    /// Rows per grade over the whole list.
    pub fn grade_counts(&self) -> &BTreeMap<Grade, usize> {
        &self.view.grade_counts
    }

    /// Whether `domain` is selected.
    pub fn is_selected(&self, domain: &DomainName) -> bool {
        self.selected.contains(domain)
    }

    /// Selected domains in the order shown (a filter that hides a row also unselects it).
    pub fn selected_domains(&self) -> Vec<DomainName> {
        let rows: HashMap<u32, &DomainName> = self
            .selected
            .iter()
            .filter_map(|domain| Some((self.rows.index_of(domain.as_str())? as u32, domain)))
            .collect();
        self.view
            .visible
            .iter()
            .filter_map(|index| rows.get(index).map(|domain| (*domain).clone()))
            .collect()
    }

    /// How many domains are selected.
    pub fn selected_count(&self) -> usize {
        self.selected.len()
    }

    /// The cursor row's domain (what the detail panel shows).
    pub fn cursor(&self) -> Option<&DomainName> {
        self.cursor.as_ref()
    }

    /// Drops the cursor (the detail pane closes); the selection stays, and a click or an
    /// arrow key sets the cursor again.
    pub fn clear_cursor(&mut self) {
        self.cursor = None;
    }

    /// The domain of the row shown at `position`.
    fn domain_at(&self, position: usize) -> Option<DomainName> {
        self.shown(position)
            .and_then(|row| DomainName::parse(row.domain()).ok())
    }

    /// A click on the row at `position`: plain selects only it, `toggle` (Ctrl) adds or removes
    /// it, `extend` (Shift) selects the range from the anchor. Returns the new cursor domain.
    pub fn click(&mut self, position: usize, toggle: bool, extend: bool) -> Option<DomainName> {
        let domain = self.domain_at(position)?;
        if extend && let Some(start) = self.anchor.as_ref().and_then(|a| self.position_of(a)) {
            let (low, high) = if start <= position {
                (start, position)
            } else {
                (position, start)
            };
            if !toggle {
                self.selected.clear();
            }
            for index in low..=high {
                if let Some(domain) = self.domain_at(index) {
                    self.selected.insert(domain);
                }
            }
        } else if toggle {
            if !self.selected.remove(&domain) {
                self.selected.insert(domain.clone());
            }
            self.anchor = Some(domain.clone());
        } else {
            self.selected.clear();
            self.selected.insert(domain.clone());
            self.anchor = Some(domain.clone());
        }
        self.cursor = Some(domain.clone());
        Some(domain)
    }

    /// Selects `domain` alone (e.g. jumping from an event); false when it is not in the view.
    pub fn select_only(&mut self, domain: &DomainName) -> bool {
        match self.position_of(domain) {
            Some(position) => {
                self.click(position, false, false);
                true
            }
            None => false,
        }
    }

    /// Selects every row shown.
    pub fn select_all_visible(&mut self) {
        for position in 0..self.view.visible.len() {
            if let Some(domain) = self.domain_at(position) {
                self.selected.insert(domain);
            }
        }
    }

    /// Moves the cursor `delta` rows (arrow keys), selecting only the new row. Returns the new
    /// cursor domain and its position.
    pub fn move_cursor(&mut self, delta: isize) -> Option<(DomainName, usize)> {
        if self.view.visible.is_empty() {
            return None;
        }
        let last = self.view.visible.len() - 1;
        let position = match self.cursor.as_ref().and_then(|c| self.position_of(c)) {
            Some(current) => current.saturating_add_signed(delta).min(last),
            None => 0,
        };
        let domain = self.click(position, false, false)?;
        Some((domain, position))
    }

    /// The filters and sort as they are now.
    fn params(&self) -> ViewParams {
        ViewParams {
            needle: self.filter_text.trim().to_lowercase(),
            grade: self.grade_filter,
            expiry_cutoff: self.expiry_within_days.map(|days| {
                (time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days)))
                    .unix_timestamp()
            }),
            provider: self.provider_filter.clone(),
            dane: self.dane_filter,
            mta_sts: self.mta_sts_filter,
            sort: self.sort,
            group_by_provider: self.group_by_provider,
        }
    }

    /// Recomputes the view from rows, filters and sort: at once for a small table, on a
    /// background thread for a large one (until it is done the table shows the previous view).
    pub fn rebuild(&mut self) {
        if self.job.is_some() {
            self.stale = false;
            self.job_outdated = true;
            return;
        }
        // Held-back results go into this rebuild.
        self.apply_pending_updates();
        self.stale = false;
        let rows = Arc::clone(self.next_rows.as_ref().unwrap_or(&self.rows));
        let params = self.params();
        if rows.len() <= INLINE_REBUILD_ROWS {
            let built = build(&rows, &params);
            drop(rows);
            self.show(built);
            return;
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("table-rebuild".into())
            .spawn(move || {
                let built = build(&rows, &params);
                // The rows are the model's again before it hears of the view.
                drop(rows);
                let _ = sender.send(built);
            });
        match spawned {
            Ok(_) => self.job = Some(receiver),
            Err(error) => {
                tracing::warn!("no thread for the table rebuild ({error}): rebuilt in the frame");
                let rows = Arc::clone(self.next_rows.as_ref().unwrap_or(&self.rows));
                let built = build(&rows, &self.params());
                drop(rows);
                self.show(built);
            }
        }
    }

    /// Results that arrived while a rebuild read the rows, into the rows (marks them stale).
    fn apply_pending_updates(&mut self) {
        if self.pending_updates.is_empty() {
            return;
        }
        let newest = self.next_rows.as_mut().unwrap_or(&mut self.rows);
        if let Some(rows) = Arc::get_mut(newest) {
            for row in self.pending_updates.drain(..) {
                rows.update(&row);
            }
            self.stale = true;
        }
    }

    /// Shows `built`, the view of the newest rows (which become the rows shown).
    fn show(&mut self, built: Built) {
        if let Some(rows) = self.next_rows.take() {
            self.rows = rows;
            let rows = &self.rows;
            self.selected
                .retain(|domain| rows.index_of(domain.as_str()).is_some());
            if self
                .cursor
                .as_ref()
                .is_some_and(|domain| rows.index_of(domain.as_str()).is_none())
            {
                self.cursor = None;
            }
        }
        self.view = built;
        // A row the filters hide is no longer selected: Rescan and Remove act on what is shown.
        if !self.selected.is_empty() {
            let params = self.params();
            let filter = Filter::new(&self.rows, &params);
            let rows = &self.rows;
            self.selected.retain(|domain| {
                rows.index_of(domain.as_str())
                    .and_then(|index| rows.get(index))
                    .is_some_and(|row| filter.keeps(&row))
            });
        }
        // Results held back while the rebuild ran: in now, shown by the next rebuild.
        self.apply_pending_updates();
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Verdict;

    #[test]
    fn the_mail_volume_column_sorts_the_heaviest_first_and_gives_shares() {
        let mut model = TableModel::default();
        model.set_rows(table_rows(vec![
            row("a.example", None, None),
            row("b.example", None, None),
            row("c.example", None, None),
        ]));
        let name = |text: &str| DomainName::parse(text).expect("valid");
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        model.set_weights(
            HashMap::from([
                (name("b.example"), weigh(900.0)),
                (name("c.example"), weigh(99.0)),
            ]),
            1000.0,
        );
        model.click_heading(SortColumn::Weight);
        let order: Vec<String> = (0..3)
            .filter_map(|position| model.visible_row(position))
            .map(|row| row.domain.to_string())
            .collect();
        assert_eq!(
            order,
            ["b.example", "c.example", "a.example"],
            "heaviest first; a weighs 1"
        );
        assert_eq!(model.mail_share(&name("b.example")), Some(90.0));
        assert_eq!(model.weight_of(&name("a.example")), Weight::ONE);
        model.click_heading(SortColumn::Weight);
        assert_eq!(
            model.visible_row(0).map(|row| row.domain.to_string()),
            Some("a.example".to_string())
        );
    }

    #[test]
    fn hidden_columns_keep_table_order_and_never_hide_the_domain() {
        let mut columns = HiddenColumns::default();
        assert_eq!(columns.shown(), SortColumn::ALL.to_vec());
        columns.set_shown(SortColumn::Provider, false);
        columns.set_shown(SortColumn::Pfs, false);
        columns.set_shown(SortColumn::Pfs, false);
        columns.set_shown(SortColumn::Domain, false);
        assert!(columns.is_shown(SortColumn::Domain));
        assert!(!columns.is_shown(SortColumn::Provider));
        assert_eq!(columns.hidden_count(), 2);
        assert_eq!(
            Vec::from(columns.clone()),
            [SortColumn::Pfs, SortColumn::Provider]
        );
        assert_eq!(columns.shown().len(), SortColumn::ALL.len() - 2);
        assert_eq!(columns.shown()[0], SortColumn::Domain);
        columns.set_shown(SortColumn::Pfs, true);
        assert!(columns.is_shown(SortColumn::Pfs));
        assert_eq!(columns.hidden_count(), 1);
    }

    #[test]
    fn hidden_columns_round_trip_and_a_saved_domain_column_is_dropped() {
        let mut columns = HiddenColumns::default();
        columns.set_shown(SortColumn::MxCount, false);
        let json = serde_json::to_string(&columns).expect("serialize");
        assert_eq!(json, r#"["MxCount"]"#);
        let back: HiddenColumns = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, columns);
        let odd: HiddenColumns =
            serde_json::from_str(r#"["Domain","Tls","TlsVersion","TlsVersion"]"#)
                .unwrap_or_default();
        // An unknown name fails the whole value; the caller falls back to the default.
        assert_eq!(odd, HiddenColumns::default());
        let known: HiddenColumns =
            serde_json::from_str(r#"["Domain","TlsVersion","TlsVersion"]"#).expect("known");
        assert_eq!(Vec::from(known), [SortColumn::TlsVersion]);
    }

    #[test]
    fn clearing_the_cursor_keeps_the_selection() {
        let mut table = TableModel::default();
        table.set_rows(table_rows(vec![
            row("a.example", None, None),
            row("b.example", None, None),
        ]));
        table.click(1, false, false);
        table.clear_cursor();
        assert_eq!(table.cursor(), None);
        assert_eq!(table.selected_count(), 1);
        assert_eq!(table.move_cursor(1).map(|(_, position)| position), Some(0));
    }

    fn table_rows(rows: Vec<LatestRow>) -> TableRows {
        TableRows::from_rows(rows).expect("fits")
    }

    fn row(name: &str, verdict: Option<Verdict>, provider: Option<&str>) -> LatestRow {
        let good = verdict == Some(Verdict::TlsOk);
        LatestRow {
            domain: DomainName::parse(name).expect("valid test domain"),
            verdict,
            starttls: verdict.map(|v| v == Verdict::TlsOk),
            pfs: verdict.map(|_| good),
            strict_valid: verdict.map(|_| good),
            tls_version: good.then(|| "TLSv1.3".to_string()),
            tls_grade: good.then_some(crate::model::TlsGrade::Good),
            cert_not_after: None,
            provider: provider.map(str::to_string),
            mx_count: 1,
            last_probed: None,
            state_since: None,
            stale: None,
            auth: Default::default(),
        }
    }

    fn model() -> TableModel {
        let mut model = TableModel::default();
        model.set_rows(table_rows(vec![
            row("c.example", Some(Verdict::NoStarttls), Some("mailhost.net")),
            row("a.example", Some(Verdict::TlsOk), Some("google.com")),
            row("b.example", None, None),
            row("d.example", Some(Verdict::Untestable), Some("google.com")),
        ]));
        model
    }

    fn shown(model: &TableModel) -> Vec<String> {
        (0..model.visible_len())
            .filter_map(|position| model.visible_row(position))
            .map(|row| row.domain.to_string())
            .collect()
    }

    #[test]
    fn filters_by_certificate_expiry_within_n_days_expired_included() {
        let now = time::OffsetDateTime::now_utc();
        let mut rows = vec![
            row("expired.example", Some(Verdict::TlsOk), None),
            row("soon.example", Some(Verdict::TlsOk), None),
            row("later.example", Some(Verdict::TlsOk), None),
            row("plain.example", Some(Verdict::NoStarttls), None),
        ];
        rows[0].cert_not_after = Some(now - time::Duration::days(3));
        rows[1].cert_not_after = Some(now + time::Duration::days(10));
        rows[2].cert_not_after = Some(now + time::Duration::days(90));
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows));
        table.set_expiry_filter(Some(30));
        assert_eq!(shown(&table), ["expired.example", "soon.example"]);
        assert_eq!(table.expiry_filter(), Some(30));
        table.set_expiry_filter(Some(0));
        assert_eq!(shown(&table), ["expired.example"]);
        table.set_expiry_filter(None);
        assert_eq!(table.visible_len(), 4);
        // Sorting by expiry puts the soonest first, rows without a certificate last.
        table.set_sort(SortOrder {
            column: SortColumn::CertExpiry,
            ascending: true,
        });
        assert_eq!(
            shown(&table),
            [
                "expired.example",
                "soon.example",
                "later.example",
                "plain.example"
            ]
        );
    }

    #[test]
    fn filters_and_groups_by_provider_largest_group_first() {
        let mut table = model();
        assert_eq!(
            table.provider_counts(),
            [
                ("google.com".to_string(), 2),
                ("mailhost.net".to_string(), 1)
            ]
        );
        table.set_provider_filter(Some("google.com".to_string()));
        assert_eq!(shown(&table), ["a.example", "d.example"]);
        table.set_provider_filter(None);
        table.set_group_by_provider(true);
        table.set_sort(SortOrder {
            column: SortColumn::Domain,
            ascending: false,
        });
        assert_eq!(
            shown(&table),
            ["d.example", "a.example", "c.example", "b.example"],
            "google.com (2) first, sorted within; no provider last"
        );
        assert_eq!(table.group_start(0), Some(("google.com", 2)));
        assert_eq!(table.group_start(1), None);
        assert_eq!(table.group_start(2), Some(("mailhost.net", 1)));
        assert_eq!(table.group_start(3), Some(("no provider", 1)));
        table.set_group_by_provider(false);
        assert_eq!(table.group_start(0), None);
    }

    #[test]
    fn filters_by_text_on_domain_or_provider_and_by_grade() {
        let mut model = model();
        assert_eq!(
            shown(&model),
            ["a.example", "b.example", "c.example", "d.example"]
        );
        model.set_filter_text("GOOGLE");
        assert_eq!(shown(&model), ["a.example", "d.example"]);
        model.set_filter_text("");
        model.set_grade_filter(Some(Grade::NoStarttls));
        assert_eq!(shown(&model), ["c.example"]);
        assert_eq!(model.grade_counts()[&Grade::Untestable], 1);
    }

    #[test]
    fn the_filter_matches_both_forms_of_an_internationalized_name() {
        let mut model = model();
        model.set_rows(table_rows(vec![
            row("xn--bcher-kva.example", Some(Verdict::TlsOk), None),
            row("b.example", None, None),
        ]));
        model.set_filter_text("Bücher");
        assert_eq!(shown(&model), ["xn--bcher-kva.example"]);
        model.set_filter_text("xn--bch");
        assert_eq!(shown(&model), ["xn--bcher-kva.example"]);
        model.set_filter_text("b.ex");
        assert_eq!(shown(&model), ["b.example"]);
    }

    #[test]
    fn sorting_by_verdict_puts_worst_after_best_and_flips_on_second_click() {
        let mut model = model();
        model.click_heading(SortColumn::Verdict);
        assert_eq!(
            shown(&model),
            ["a.example", "c.example", "d.example", "b.example"]
        );
        model.click_heading(SortColumn::Verdict);
        assert_eq!(
            shown(&model),
            ["b.example", "d.example", "c.example", "a.example"]
        );
    }

    #[test]
    fn selection_survives_resorting_and_supports_ranges_and_toggles() {
        let mut model = model();
        model.click(0, false, false);
        model.click(2, false, true);
        assert_eq!(
            model
                .selected_domains()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>(),
            ["a.example", "b.example", "c.example"]
        );
        model.click(1, true, false);
        assert_eq!(model.selected_count(), 2);
        model.click_heading(SortColumn::Domain);
        assert_eq!(model.selected_count(), 2, "sorting keeps the selection");
        let (domain, position) = model.move_cursor(1).expect("moved");
        assert_eq!(model.selected_count(), 1);
        assert_eq!(model.position_of(&domain), Some(position));
    }

    #[test]
    fn a_filter_that_hides_a_selected_row_unselects_it() {
        let mut model = model();
        model.click(0, false, false);
        model.click(3, false, true);
        assert_eq!(model.selected_count(), 4);
        model.set_filter_text("b.example");
        model.rebuild_if_stale();
        assert_eq!(model.selected_count(), 1);
        assert_eq!(
            model.selected_domains(),
            [DomainName::parse("b.example").expect("valid")]
        );
        model.set_filter_text("");
        model.rebuild_if_stale();
        assert_eq!(model.selected_count(), 1, "hidden rows stay unselected");
    }

    #[test]
    fn a_result_arriving_during_a_scan_updates_its_row_in_place() {
        let mut model = model();
        let updated = row("b.example", Some(Verdict::TlsOk), Some("google.com"));
        assert!(model.update_row(updated));
        assert!(!model.update_row(row("zzz.example", Some(Verdict::TlsOk), None)));
        model.rebuild_if_stale();
        assert_eq!(model.grade_counts()[&Grade::Secure], 2);
        assert_eq!(model.grade_counts().get(&Grade::NotProbed), None);
    }

    #[test]
    fn filters_and_sorts_by_dane_and_mta_sts_and_at_risk_beats_secure() {
        use crate::model::auth::{SenderOutcome, SenderView};
        use crate::store::RowAuth;
        let mut rows = vec![
            row("broken.example", Some(Verdict::TlsOk), None),
            row("dane.example", Some(Verdict::TlsOk), None),
            row("plain.example", Some(Verdict::TlsOk), None),
            row("sts.example", Some(Verdict::TlsOk), None),
        ];
        let sender = |dane, mta_sts, authenticated, at_risk| {
            Some(SenderView {
                dane,
                mta_sts,
                authenticated,
                at_risk,
            })
        };
        rows[0].auth = RowAuth {
            dane: Some(DaneSetStatus::Failed),
            mta_sts: Some(MtaStsOutcome::None),
            sender: sender(
                SenderOutcome::Defers,
                SenderOutcome::Opportunistic,
                false,
                true,
            ),
        };
        rows[1].auth = RowAuth {
            dane: Some(DaneSetStatus::Valid),
            mta_sts: Some(MtaStsOutcome::None),
            sender: sender(
                SenderOutcome::Authenticated,
                SenderOutcome::Opportunistic,
                true,
                false,
            ),
        };
        rows[3].auth = RowAuth {
            dane: Some(DaneSetStatus::None),
            mta_sts: Some(MtaStsOutcome::EnforceOk),
            sender: sender(
                SenderOutcome::Opportunistic,
                SenderOutcome::Authenticated,
                true,
                false,
            ),
        };
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows));
        // broken.example is all three with good TLS, yet at risk: never counted secure.
        assert_eq!(table.grade_counts()[&Grade::AtRisk], 1);
        assert_eq!(table.grade_counts()[&Grade::Secure], 3);
        table.set_grade_filter(Some(Grade::AtRisk));
        assert_eq!(shown(&table), ["broken.example"]);
        table.set_grade_filter(None);
        table.set_dane_filter(Some(Some(DaneSetStatus::Valid)));
        assert_eq!(shown(&table), ["dane.example"]);
        table.set_dane_filter(Some(None));
        assert_eq!(shown(&table), ["plain.example"], "not looked up");
        table.set_dane_filter(None);
        table.set_mta_sts_filter(Some(Some(MtaStsOutcome::EnforceOk)));
        assert_eq!(shown(&table), ["sts.example"]);
        table.set_mta_sts_filter(None);
        let counts: Vec<_> = table
            .dane_counts()
            .filter(|(_, count)| *count > 0)
            .collect();
        assert_eq!(
            counts,
            [
                (Some(DaneSetStatus::Valid), 1),
                (Some(DaneSetStatus::None), 1),
                (Some(DaneSetStatus::Failed), 1),
                (None, 1)
            ]
        );
        table.click_heading(SortColumn::Dane);
        assert_eq!(
            shown(&table),
            [
                "dane.example",
                "sts.example",
                "broken.example",
                "plain.example"
            ],
            "valid first, failed after none, not looked up last"
        );
        table.click_heading(SortColumn::MtaSts);
        assert_eq!(shown(&table)[0], "sts.example", "enforce first");
        table.click_heading(SortColumn::Verdict);
        assert_eq!(shown(&table)[0], "broken.example", "at risk sorts first");
    }

    /// The comparator the table used while it kept whole `LatestRow`s: the compact keys must
    /// order rows exactly as it did.
    fn old_compare(a: &LatestRow, b: &LatestRow, column: SortColumn) -> std::cmp::Ordering {
        use crate::ui::style::GradeLook as _;
        use std::cmp::Ordering;
        fn missing_last<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
            match (a, b) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        match column {
            SortColumn::Domain => a.domain.cmp(&b.domain),
            SortColumn::Verdict => Grade::of_row(a).cmp(&Grade::of_row(b)),
            SortColumn::Starttls => missing_last(a.starttls.map(|v| !v), b.starttls.map(|v| !v)),
            SortColumn::Pfs => missing_last(a.pfs.map(|v| !v), b.pfs.map(|v| !v)),
            SortColumn::Strict => {
                missing_last(a.strict_valid.map(|v| !v), b.strict_valid.map(|v| !v))
            }
            SortColumn::TlsVersion => missing_last(a.tls_version.as_ref(), b.tls_version.as_ref()),
            SortColumn::CertExpiry => missing_last(a.cert_not_after, b.cert_not_after),
            SortColumn::Provider => missing_last(a.provider.as_ref(), b.provider.as_ref()),
            SortColumn::MxCount => a.mx_count.cmp(&b.mx_count),
            SortColumn::LastProbed => missing_last(a.last_probed, b.last_probed),
            SortColumn::LastChange => missing_last(a.state_since, b.state_since),
            SortColumn::Dane => {
                rank_of(&DANE_VALUES, &a.auth.dane).cmp(&rank_of(&DANE_VALUES, &b.auth.dane))
            }
            SortColumn::MtaSts => rank_of(&MTA_STS_VALUES, &a.auth.mta_sts)
                .cmp(&rank_of(&MTA_STS_VALUES, &b.auth.mta_sts)),
            SortColumn::Weight => Ordering::Equal,
        }
    }

    /// The filters as the old table applied them, to whole rows.
    struct OldFilter {
        needle: String,
        grade: Option<Grade>,
        expiry_cutoff: Option<time::OffsetDateTime>,
        provider: Option<String>,
        dane: Option<Option<DaneSetStatus>>,
        mta_sts: Option<Option<MtaStsOutcome>>,
    }

    impl OldFilter {
        fn keeps(&self, row: &LatestRow) -> bool {
            use crate::ui::style::GradeLook as _;
            let needle = &self.needle;
            self.grade.is_none_or(|grade| Grade::of_row(row) == grade)
                && self.expiry_cutoff.is_none_or(|cutoff| {
                    row.cert_not_after
                        .is_some_and(|not_after| not_after <= cutoff)
                })
                && self.dane.is_none_or(|dane| row.auth.dane == dane)
                && self
                    .mta_sts
                    .is_none_or(|outcome| row.auth.mta_sts == outcome)
                && self
                    .provider
                    .as_deref()
                    .is_none_or(|provider| row.provider.as_deref() == Some(provider))
                && (needle.is_empty()
                    || row.domain.as_str().contains(needle)
                    || matches!(row.domain.display_name(),
                        Cow::Owned(unicode) if unicode.to_lowercase().contains(needle))
                    || row
                        .provider
                        .as_deref()
                        .is_some_and(|provider| provider.contains(needle)))
        }
    }

    /// What the old table showed: filtered, sorted (grouped by provider when asked), ties by
    /// name.
    fn old_view(
        rows: &[LatestRow],
        weights: &HashMap<DomainName, Weight>,
        filter: &OldFilter,
        sort: SortOrder,
        group_by_provider: bool,
    ) -> Vec<String> {
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&index| filter.keeps(&rows[index]))
            .collect();
        let mut providers: BTreeMap<&str, usize> = BTreeMap::new();
        for row in rows {
            if let Some(provider) = row.provider.as_deref() {
                *providers.entry(provider).or_default() += 1;
            }
        }
        let mut counts: Vec<(&str, usize)> = providers.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let rank: HashMap<&str, usize> = counts
            .iter()
            .enumerate()
            .map(|(rank, (provider, _))| (*provider, rank))
            .collect();
        let group = |index: usize| {
            rows[index]
                .provider
                .as_deref()
                .and_then(|provider| rank.get(provider).copied())
                .unwrap_or(usize::MAX)
        };
        let weight = |index: usize| {
            weights
                .get(&rows[index].domain)
                .copied()
                .unwrap_or_default()
        };
        visible.sort_by(|&a, &b| {
            let order = match sort.column {
                SortColumn::Weight => weight(a).cmp(&weight(b)),
                column => old_compare(&rows[a], &rows[b], column),
            };
            let order = if sort.ascending {
                order
            } else {
                order.reverse()
            };
            let order = order.then_with(|| a.cmp(&b));
            if group_by_provider {
                group(a).cmp(&group(b)).then(order)
            } else {
                order
            }
        });
        visible
            .into_iter()
            .map(|index| rows[index].domain.to_string())
            .collect()
    }

    /// The varied rows as the old table held them: by name, the last of a name given twice,
    /// timestamps in whole seconds (as the store keeps them).
    fn varied_by_name() -> Vec<LatestRow> {
        let mut rows = crate::monitor::view::rows::test_support::varied_rows();
        rows.reverse();
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        rows.dedup_by(|later, earlier| later.domain == earlier.domain);
        rows
    }

    #[test]
    fn every_sort_orders_rows_as_the_old_comparator_did() {
        let rows = varied_by_name();
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        let weights: HashMap<DomainName, Weight> = rows
            .iter()
            .enumerate()
            .filter(|(index, _)| index % 3 != 0)
            .map(|(index, row)| (row.domain.clone(), weigh((index % 7) as f64 * 0.5)))
            .collect();
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows.clone()));
        table.set_weights(weights.clone(), 100.0);
        let everything = OldFilter {
            needle: String::new(),
            grade: None,
            expiry_cutoff: None,
            provider: None,
            dane: None,
            mta_sts: None,
        };
        for group_by_provider in [false, true] {
            table.set_group_by_provider(group_by_provider);
            for column in SortColumn::ALL {
                for ascending in [true, false] {
                    let sort = SortOrder { column, ascending };
                    table.set_sort(sort);
                    assert_eq!(
                        shown(&table),
                        old_view(&rows, &weights, &everything, sort, group_by_provider),
                        "{sort:?}, grouped: {group_by_provider}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_filter_keeps_the_rows_the_old_filter_kept() {
        let rows = varied_by_name();
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows.clone()));
        let sort = SortOrder {
            column: SortColumn::LastProbed,
            ascending: false,
        };
        table.set_sort(sort);
        let none = HashMap::new();
        let mut checked = 0;
        for needle in ["", "GOOGLE", "b.ex", "Bücher", "xn--bch", "7", "zzz"] {
            for grade in [
                None,
                Some(Grade::Secure),
                Some(Grade::AtRisk),
                Some(Grade::NotProbed),
            ] {
                for days in [None, Some(0), Some(30)] {
                    for provider in [None, Some("google.com"), Some("nobody.example")] {
                        for (dane, mta_sts) in [
                            (None, None),
                            (Some(None), None),
                            (Some(Some(DaneSetStatus::Valid)), None),
                            (None, Some(Some(MtaStsOutcome::EnforceOk))),
                        ] {
                            table.set_filter_text(needle);
                            table.set_grade_filter(grade);
                            table.set_expiry_filter(days);
                            table.set_provider_filter(provider.map(str::to_string));
                            table.set_dane_filter(dane);
                            table.set_mta_sts_filter(mta_sts);
                            let filter = OldFilter {
                                needle: needle.trim().to_lowercase(),
                                grade,
                                expiry_cutoff: days.map(|days: u32| {
                                    time::OffsetDateTime::now_utc()
                                        + time::Duration::days(i64::from(days))
                                }),
                                provider: provider.map(str::to_string),
                                dane,
                                mta_sts,
                            };
                            let expected = old_view(&rows, &none, &filter, sort, false);
                            checked += usize::from(!expected.is_empty());
                            assert_eq!(
                                shown(&table),
                                expected,
                                "{needle:?} {grade:?} {days:?} {provider:?} {dane:?} {mta_sts:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "most combinations keep some rows: {checked}");
    }

    #[test]
    fn the_counts_for_the_filter_menus_are_the_old_ones() {
        use crate::ui::style::GradeLook as _;
        let rows = varied_by_name();
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows.clone()));
        let mut grades: BTreeMap<Grade, usize> = BTreeMap::new();
        for row in &rows {
            *grades.entry(Grade::of_row(row)).or_default() += 1;
        }
        assert_eq!(table.grade_counts(), &grades);
        let mut providers: BTreeMap<String, usize> = BTreeMap::new();
        for row in &rows {
            if let Some(provider) = &row.provider {
                *providers.entry(provider.clone()).or_default() += 1;
            }
        }
        let mut expected: Vec<(String, usize)> = providers.into_iter().collect();
        expected.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        assert_eq!(table.provider_counts(), expected.as_slice());
        let danes: usize = table.dane_counts().map(|(_, count)| count).sum();
        assert_eq!(danes, rows.len());
    }

    #[test]
    fn a_large_table_is_rebuilt_in_the_background_and_keeps_results_that_arrive_meanwhile() {
        let name = |index: usize| format!("d{index:06}.example");
        let rows: Vec<LatestRow> = (0..INLINE_REBUILD_ROWS + 10)
            .map(|index| {
                let verdict = [Some(Verdict::TlsOk), Some(Verdict::NoStarttls), None][index % 3];
                row(&name(index), verdict, None)
            })
            .collect();
        let mut table = TableModel::default();
        table.set_rows(table_rows(rows));
        let wait = |table: &mut TableModel| {
            let started = std::time::Instant::now();
            while table.is_rebuilding() {
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(120),
                    "never ended"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
                table.poll();
            }
        };
        assert_eq!(table.total_len(), 0, "shown once its view is built");
        wait(&mut table);
        assert_eq!(table.total_len(), INLINE_REBUILD_ROWS + 10);
        assert_eq!(table.visible_len(), INLINE_REBUILD_ROWS + 10);

        table.set_grade_filter(Some(Grade::NoStarttls));
        assert!(table.is_rebuilding());
        // A result while the rebuild reads the rows: held, visible to `row_of` at once.
        let first = DomainName::parse(&name(0)).expect("valid");
        assert!(table.update_row(row(&name(0), Some(Verdict::NoStarttls), Some("x.example"))));
        assert_eq!(
            table.row_of(&first).and_then(|row| row.verdict),
            Some(Verdict::NoStarttls)
        );
        // Asked again meanwhile: the job is out of date and runs again when it ends.
        table.set_filter_text("d00000");
        wait(&mut table);
        table.rebuild_if_stale();
        wait(&mut table);
        // d000000 .. d000009, of which every third but d000000 (now no STARTTLS) was.
        assert_eq!(
            shown(&table),
            [
                "d000000.example",
                "d000001.example",
                "d000004.example",
                "d000007.example"
            ]
        );
        assert_eq!(table.provider_counts(), [("x.example".to_string(), 1)]);
    }
}
