//! The domains table's data side: all rows of the selected list, the filtered and sorted view of
//! them, and the selection. Rebuilt only when rows, filter or sort change — never per frame —
//! so drawing 100k rows costs only the visible ones.
//!
//! Owns: filtering, sorting, selection (by domain, so it survives re-sorting and reloads),
//! keyboard cursor movement, and which columns are hidden ([`HiddenColumns`], the rule that the
//! Domain column always shows). Must not touch: drawing, the monitor.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::style::Grade;
use super::style::GradeLook as _;
use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
use crate::model::{DomainName, Weight};
use crate::monitor::view::LatestRow;

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

/// Rows, their filtered/sorted view, and the selection.
#[derive(Default)]
pub struct TableModel {
    /// Every row of the list, by domain name (the store's order; kept for binary search).
    rows: Vec<LatestRow>,
    /// Indexes into `rows`: what the table shows, in order.
    visible: Vec<usize>,
    filter_text: String,
    grade_filter: Option<Grade>,
    sort: SortOrder,
    /// Rows per grade over all rows (for the filter menu).
    grade_counts: BTreeMap<Grade, usize>,
    selected: HashSet<DomainName>,
    /// The row the keyboard and the detail panel follow.
    cursor: Option<DomainName>,
    /// Where a shift-click range starts.
    anchor: Option<DomainName>,
    /// Rows changed since the last rebuild (updated in place while a scan runs).
    stale: bool,
    /// Each domain's weight in the list (mail volume; absent: 1).
    weights: HashMap<DomainName, Weight>,
    /// The sum of the weights of the list's domains.
    weight_total: f64,
    /// Only rows whose certificate ends within this many days (or has ended).
    expiry_within_days: Option<u32>,
    /// Only rows of this mail provider (`model::provider_of` of the primary MX).
    provider_filter: Option<String>,
    /// Rows grouped by provider, largest group first, the sort order within each group.
    group_by_provider: bool,
    /// Rows per provider over all rows, largest first (then by name), for the filter menu.
    provider_counts: Vec<(String, usize)>,
    /// Only rows with this `dane` (`Some(None)`: not looked up); None: all.
    dane_filter: Option<Option<DaneSetStatus>>,
    /// Only rows with this MTA-STS outcome (`Some(None)`: not looked up); None: all.
    mta_sts_filter: Option<Option<MtaStsOutcome>>,
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

/// A row's certificate ends by `cutoff` (a row without a certificate never does).
fn expires_by(row: &LatestRow, cutoff: time::OffsetDateTime) -> bool {
    row.cert_not_after
        .is_some_and(|not_after| not_after <= cutoff)
}

impl TableModel {
    /// Replaces all rows (a fresh snapshot); keeps filter, sort and the selection of domains
    /// that are still there.
    pub fn set_rows(&mut self, mut rows: Vec<LatestRow>) {
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        let present: HashSet<&DomainName> = rows.iter().map(|row| &row.domain).collect();
        self.selected.retain(|domain| present.contains(domain));
        if self
            .cursor
            .as_ref()
            .is_some_and(|domain| !present.contains(domain))
        {
            self.cursor = None;
        }
        self.rows = rows;
        self.rebuild();
    }

    /// Replaces the weights (mail volume) of the list's domains, from a fresh snapshot; a
    /// domain without one weighs 1.
    pub fn set_weights(&mut self, weights: HashMap<DomainName, Weight>, weight_total: f64) {
        self.weights = weights;
        self.weight_total = weight_total;
        if self.sort.column == SortColumn::Weight {
            self.rebuild();
        }
    }

    /// The weight of `domain` in the list (1 when none was given).
    pub fn weight_of(&self, domain: &DomainName) -> Weight {
        self.weights.get(domain).copied().unwrap_or_default()
    }

    /// `domain`'s share of the list's mail in percent (None when the list weighs nothing).
    pub fn mail_share(&self, domain: &DomainName) -> Option<f64> {
        crate::model::adoption::volume_share(self.weight_of(domain).get(), self.weight_total)
    }

    /// Updates one row in place (a result that just arrived); ignored when the domain is not
    /// in this list. The view is rebuilt by [`Self::rebuild_if_stale`].
    pub fn update_row(&mut self, row: LatestRow) -> bool {
        match self
            .rows
            .binary_search_by(|probe| probe.domain.cmp(&row.domain))
        {
            Ok(index) => {
                self.rows[index] = row;
                self.stale = true;
                true
            }
            Err(_) => false,
        }
    }

    /// The stored row of `domain`, if it is in this list.
    pub fn row_of(&self, domain: &DomainName) -> Option<&LatestRow> {
        self.rows
            .binary_search_by(|probe| probe.domain.cmp(domain))
            .ok()
            .map(|index| &self.rows[index])
    }

    /// Rebuilds the view when rows changed in place since the last rebuild.
    pub fn rebuild_if_stale(&mut self) {
        if self.stale {
            self.rebuild();
        }
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
        DANE_VALUES.into_iter().zip(self.dane_counts)
    }

    /// Rows of the whole list per MTA-STS outcome, in [`MTA_STS_VALUES`] order.
    pub fn mta_sts_counts(&self) -> impl Iterator<Item = (Option<MtaStsOutcome>, usize)> + '_ {
        MTA_STS_VALUES.into_iter().zip(self.mta_sts_counts)
    }

    /// Rows per provider over the whole list, largest first (then by name).
    pub fn provider_counts(&self) -> &[(String, usize)] {
        &self.provider_counts
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

    /// When grouped: the provider and its row count if the row at `position` starts a group.
    pub fn group_start(&self, position: usize) -> Option<(&str, usize)> {
        if !self.group_by_provider {
            return None;
        }
        let provider = |position: usize| {
            self.visible_row(position)
                .map(|row| row.provider.as_deref().unwrap_or("no provider"))
        };
        let this = provider(position)?;
        if position > 0 && provider(position - 1) == Some(this) {
            return None;
        }
        let size = self.visible[position..]
            .iter()
            .take_while(|&&index| {
                self.rows[index]
                    .provider
                    .as_deref()
                    .unwrap_or("no provider")
                    == this
            })
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
        self.visible.len()
    }

    /// All rows of the list.
    pub fn total_len(&self) -> usize {
        self.rows.len()
    }

    /// Every row of the list, by domain name.
    pub fn rows(&self) -> &[LatestRow] {
        &self.rows
    }

    /// The row shown at `position`.
    pub fn visible_row(&self, position: usize) -> Option<&LatestRow> {
        self.visible
            .get(position)
            .and_then(|&index| self.rows.get(index))
    }

    /// Where `domain` is shown, if it passes the filters.
    pub fn position_of(&self, domain: &DomainName) -> Option<usize> {
        self.visible
            .iter()
            .position(|&index| &self.rows[index].domain == domain)
    }

    /// Rows per grade over the whole list.
    pub fn grade_counts(&self) -> &BTreeMap<Grade, usize> {
        &self.grade_counts
    }

    /// Whether `domain` is selected.
    pub fn is_selected(&self, domain: &DomainName) -> bool {
        self.selected.contains(domain)
    }

    /// Selected domains in the order shown (a filter that hides a row also unselects it).
    pub fn selected_domains(&self) -> Vec<DomainName> {
        self.visible
            .iter()
            .map(|&index| &self.rows[index].domain)
            .filter(|domain| self.selected.contains(*domain))
            .cloned()
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

    /// A click on the row at `position`: plain selects only it, `toggle` (Ctrl) adds or removes
    /// it, `extend` (Shift) selects the range from the anchor. Returns the new cursor domain.
    pub fn click(&mut self, position: usize, toggle: bool, extend: bool) -> Option<DomainName> {
        let domain = self.visible_row(position)?.domain.clone();
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
                if let Some(row) = self.visible_row(index) {
                    self.selected.insert(row.domain.clone());
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
        for &index in &self.visible {
            self.selected.insert(self.rows[index].domain.clone());
        }
    }

    /// Moves the cursor `delta` rows (arrow keys), selecting only the new row. Returns the new
    /// cursor domain and its position.
    pub fn move_cursor(&mut self, delta: isize) -> Option<(DomainName, usize)> {
        if self.visible.is_empty() {
            return None;
        }
        let last = self.visible.len() - 1;
        let position = match self.cursor.as_ref().and_then(|c| self.position_of(c)) {
            Some(current) => current.saturating_add_signed(delta).min(last),
            None => 0,
        };
        let domain = self.click(position, false, false)?;
        Some((domain, position))
    }

    /// Recomputes the view from rows, filters and sort.
    pub fn rebuild(&mut self) {
        self.stale = false;
        self.grade_counts.clear();
        self.dane_counts = Default::default();
        self.mta_sts_counts = Default::default();
        for row in &self.rows {
            *self.grade_counts.entry(Grade::of_row(row)).or_default() += 1;
            if let Some(count) = self
                .dane_counts
                .get_mut(rank_of(&DANE_VALUES, &row.auth.dane))
            {
                *count += 1;
            }
            if let Some(count) = self
                .mta_sts_counts
                .get_mut(rank_of(&MTA_STS_VALUES, &row.auth.mta_sts))
            {
                *count += 1;
            }
        }
        let mut providers: BTreeMap<&str, usize> = BTreeMap::new();
        for row in &self.rows {
            if let Some(provider) = row.provider.as_deref() {
                *providers.entry(provider).or_default() += 1;
            }
        }
        let mut provider_counts: Vec<(String, usize)> = providers
            .into_iter()
            .map(|(provider, count)| (provider.to_string(), count))
            .collect();
        provider_counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.provider_counts = provider_counts;
        let needle = self.filter_text.trim().to_lowercase();
        let grade_filter = self.grade_filter;
        let expiry_cutoff = self
            .expiry_within_days
            .map(|days| time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days)));
        let provider_filter = self.provider_filter.as_deref();
        let (dane_filter, mta_sts_filter) = (self.dane_filter, self.mta_sts_filter);
        self.visible = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| grade_filter.is_none_or(|grade| Grade::of_row(row) == grade))
            .filter(|(_, row)| expiry_cutoff.is_none_or(|cutoff| expires_by(row, cutoff)))
            .filter(|(_, row)| dane_filter.is_none_or(|dane| row.auth.dane == dane))
            .filter(|(_, row)| mta_sts_filter.is_none_or(|outcome| row.auth.mta_sts == outcome))
            .filter(|(_, row)| {
                provider_filter.is_none_or(|provider| row.provider.as_deref() == Some(provider))
            })
            .filter(|(_, row)| {
                needle.is_empty()
                    || row.domain.as_str().contains(&needle)
                    // The Unicode form only where it differs (IDN): no string per row else.
                    || matches!(row.domain.display_name(),
                        Cow::Owned(unicode) if unicode.to_lowercase().contains(&needle))
                    || row
                        .provider
                        .as_deref()
                        .is_some_and(|provider| provider.contains(&needle))
            })
            .map(|(index, _)| index)
            .collect();
        // A row the filters hide is no longer selected: Rescan and Remove act on what is shown.
        if !self.selected.is_empty() {
            let shown: HashSet<&DomainName> = self
                .visible
                .iter()
                .map(|&index| &self.rows[index].domain)
                .collect();
            self.selected.retain(|domain| shown.contains(domain));
        }
        let sort = self.sort;
        if self.group_by_provider {
            let rank: std::collections::HashMap<&str, usize> = self
                .provider_counts
                .iter()
                .enumerate()
                .map(|(rank, (provider, _))| (provider.as_str(), rank))
                .collect();
            let rows = &self.rows;
            // Largest provider first; rows without one last; the sort order within.
            let group = |index: usize| {
                rows[index]
                    .provider
                    .as_deref()
                    .and_then(|provider| rank.get(provider).copied())
                    .unwrap_or(usize::MAX)
            };
            self.visible.sort_by(|&a, &b| {
                let order = compare(&rows[a], &rows[b], sort.column);
                let order = if sort.ascending {
                    order
                } else {
                    order.reverse()
                };
                group(a).cmp(&group(b)).then(order).then_with(|| a.cmp(&b))
            });
            return;
        }
        if sort.column == SortColumn::Domain {
            // Rows are kept in name order: the filtered indexes already are.
            if !sort.ascending {
                self.visible.reverse();
            }
            return;
        }
        let rows = &self.rows;
        let weights = &self.weights;
        // Ties go by name, which is index order (rows are sorted by name): no string compare.
        self.visible.sort_unstable_by(|&a, &b| {
            let order = if sort.column == SortColumn::Weight {
                let weight = |index: usize| {
                    weights
                        .get(&rows[index].domain)
                        .copied()
                        .unwrap_or_default()
                };
                weight(a).cmp(&weight(b))
            } else {
                compare(&rows[a], &rows[b], sort.column)
            };
            let order = if sort.ascending {
                order
            } else {
                order.reverse()
            };
            order.then_with(|| a.cmp(&b))
        });
    }
}

/// Orders two rows by one column. Missing values sort after present ones (ascending).
fn compare(a: &LatestRow, b: &LatestRow, column: SortColumn) -> Ordering {
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
        SortColumn::Strict => missing_last(a.strict_valid.map(|v| !v), b.strict_valid.map(|v| !v)),
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
        // Needs the weights: `TableModel::rebuild` orders this column itself.
        SortColumn::Weight => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Verdict;

    #[test]
    fn the_mail_volume_column_sorts_the_heaviest_first_and_gives_shares() {
        let mut model = TableModel::default();
        model.set_rows(vec![
            row("a.example", None, None),
            row("b.example", None, None),
            row("c.example", None, None),
        ]);
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
        let order: Vec<&str> = (0..3)
            .filter_map(|position| model.visible_row(position))
            .map(|row| row.domain.as_str())
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
            model.visible_row(0).map(|row| row.domain.as_str()),
            Some("a.example")
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
        table.set_rows(vec![
            row("a.example", None, None),
            row("b.example", None, None),
        ]);
        table.click(1, false, false);
        table.clear_cursor();
        assert_eq!(table.cursor(), None);
        assert_eq!(table.selected_count(), 1);
        assert_eq!(table.move_cursor(1).map(|(_, position)| position), Some(0));
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
        model.set_rows(vec![
            row("c.example", Some(Verdict::NoStarttls), Some("mailhost.net")),
            row("a.example", Some(Verdict::TlsOk), Some("google.com")),
            row("b.example", None, None),
            row("d.example", Some(Verdict::Untestable), Some("google.com")),
        ]);
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
        table.set_rows(rows);
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
        model.set_rows(vec![
            row("xn--bcher-kva.example", Some(Verdict::TlsOk), None),
            row("b.example", None, None),
        ]);
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
        table.set_rows(rows);
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
}
