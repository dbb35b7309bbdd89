//! The domains table's rows as the app keeps them: compact, so a million domains fit in a few
//! dozen MB. Built on the monitor's side (the snapshot carries them), read by the table model.
//!
//! Owns: how a [`LatestRow`] is laid out in memory — every domain name end to end in one text
//! (by name, found by binary search), providers and TLS versions interned (each text once, an id
//! per row), timestamps as whole Unix seconds, the three yes/no/unknown flags in one byte, the
//! rare stale rows' staleness and the weighted rows' weights beside the rows — and turning a row
//! back into a [`LatestRow`] equal to the one it was made of. Must not touch: what a row says
//! (the store's and `store::latest_row_of`'s business), sorting, filtering, drawing.

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::model::words::Grade;
use crate::model::{DomainName, TlsGrade, Verdict, Weight};
use crate::store::{LatestRow, RowAuth, Staleness};

/// An interned text: its index in [`Words`], plus one (so `Option<WordId>` takes 4 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WordId(std::num::NonZeroU32);

impl WordId {
    /// The id of the text at `index`.
    fn at(index: usize) -> Option<Self> {
        let number = u32::try_from(index).ok()?.checked_add(1)?;
        std::num::NonZeroU32::new(number).map(Self)
    }

    /// The text's index in [`Words`] (`0..Words::len()`).
    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// Texts that many rows share (providers, TLS versions), each kept once.
#[derive(Clone, Debug, Default)]
pub struct Words {
    texts: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, WordId>,
}

impl Words {
    /// The id of `text`, added when new; None once 2^32 - 1 texts are taken (never in
    /// practice: the row is then stored without it).
    fn intern(&mut self, text: &str) -> Option<WordId> {
        if let Some(&id) = self.ids.get(text) {
            return Some(id);
        }
        let id = WordId::at(self.texts.len())?;
        let text: Arc<str> = Arc::from(text);
        self.texts.push(Arc::clone(&text));
        self.ids.insert(text, id);
        Some(id)
    }

    /// The text of `id`.
    pub fn text(&self, id: WordId) -> &str {
        self.text_at(id.index())
    }

    /// The text at `index` (`0..len`; "" past the end).
    pub fn text_at(&self, index: usize) -> &str {
        self.texts.get(index).map_or("", |text| text)
    }

    /// The id of `text`, if some row has it.
    pub fn id_of(&self, text: &str) -> Option<WordId> {
        self.ids.get(text).copied()
    }

    /// How many texts are interned (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether no text is interned.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Each id's place in the texts' byte order (indexed by [`WordId::index`]): sorting rows by
    /// these sorts them by the text, without comparing text.
    pub fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.texts.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.texts[a as usize].cmp(&self.texts[b as usize]));
        let mut ranks = vec![0; self.texts.len()];
        for (rank, id) in order.into_iter().enumerate() {
            ranks[id as usize] = rank as u32;
        }
        ranks
    }

    fn heap_bytes(&self) -> usize {
        let texts: usize = self
            .texts
            .iter()
            .map(|text| heap_block(text.len() + 16))
            .sum();
        texts
            + self.texts.capacity() * size_of::<Arc<str>>()
            + self.ids.capacity() * (size_of::<(Arc<str>, WordId)>() + 1)
    }
}

/// `Option<bool>` in two bits.
fn flag_bits(value: Option<bool>) -> u8 {
    match value {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }
}

fn flag_of(bits: u8) -> Option<bool> {
    match bits & 0b11 {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

/// No timestamp (never a real one: `OffsetDateTime` ends at year ±9999).
const NO_TIME: i64 = i64::MIN;

fn seconds_of(at: Option<OffsetDateTime>) -> i64 {
    at.map_or(NO_TIME, OffsetDateTime::unix_timestamp)
}

fn time_of(seconds: i64) -> Option<OffsetDateTime> {
    (seconds != NO_TIME)
        .then(|| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .flatten()
}

/// One row's facts besides its name: 48 bytes (a test keeps it so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Facts {
    cert_not_after: i64,
    last_probed: i64,
    state_since: i64,
    mx_count: u32,
    provider: Option<WordId>,
    tls_version: Option<WordId>,
    verdict: Option<Verdict>,
    tls_grade: Option<TlsGrade>,
    /// `starttls`, `pfs`, `strict_valid` two bits each ([`flag_bits`]), then [`STALE_BIT`].
    flags: u8,
    auth: RowAuth,
}

/// The row has an entry in [`TableRows::stale`].
const STALE_BIT: u8 = 1 << 6;

/// The rows of one list, by domain name. Equal to the `Vec<LatestRow>` it was made of, row for
/// row, except that timestamps keep whole seconds (what the store keeps).
#[derive(Clone, Debug, Default)]
pub struct TableRows {
    /// Every domain name end to end, by name.
    names: String,
    /// Where each row's name ends in `names` (it starts where the previous one ends).
    name_ends: Vec<u32>,
    facts: Vec<Facts>,
    /// Providers and TLS versions.
    words: Words,
    /// The staleness of the rows that have one, by row.
    stale: HashMap<u32, Staleness>,
    /// The weights of the rows that have one other than 1, by row.
    weights: HashMap<u32, Weight>,
}

/// What went wrong building rows: more domain-name text than one table holds (4 GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many domains for one table (their names exceed 4 GiB)")]
pub struct TooManyRows;

impl TableRows {
    /// The rows of `rows`, by name (sorted here when they are not).
    pub fn from_rows(rows: Vec<LatestRow>) -> Result<Self, TooManyRows> {
        let mut builder = RowsBuilder::default();
        for row in rows {
            builder.push(row)?;
        }
        Ok(builder.finish())
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether there is no row.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// The domain name of row `index` ("" past the end).
    pub fn name(&self, index: usize) -> &str {
        let end = self.name_ends.get(index).map_or(0, |&end| end as usize);
        let start = match index {
            0 => 0,
            _ => self
                .name_ends
                .get(index - 1)
                .map_or(end, |&end| end as usize),
        };
        self.names.get(start..end).unwrap_or("")
    }

    /// The row of `domain`, by binary search.
    pub fn index_of(&self, domain: &str) -> Option<usize> {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.name(middle).cmp(domain) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return Some(middle),
            }
        }
        None
    }

    /// Row `index`, to read.
    pub fn get(&self, index: usize) -> Option<RowRef<'_>> {
        let facts = self.facts.get(index)?;
        Some(RowRef {
            rows: self,
            index,
            facts,
        })
    }

    /// Every row, by name.
    pub fn iter(&self) -> impl Iterator<Item = RowRef<'_>> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// Row `index` as the store would give it.
    pub fn to_row(&self, index: usize) -> Option<LatestRow> {
        self.get(index).and_then(|row| row.to_latest())
    }

    /// Replaces the facts of `row.domain`'s row (a result that just arrived); false when the
    /// domain has no row here.
    pub fn update(&mut self, row: &LatestRow) -> bool {
        let Some(index) = self.index_of(row.domain.as_str()) else {
            return false;
        };
        let facts = facts_of(&mut self.words, row);
        if let Some(slot) = self.facts.get_mut(index) {
            *slot = facts;
        }
        match &row.stale {
            Some(stale) => self.stale.insert(index as u32, stale.clone()),
            None => self.stale.remove(&(index as u32)),
        };
        true
    }

    /// The interned providers and TLS versions.
    pub fn words(&self) -> &Words {
        &self.words
    }

    /// Sets the rows' weights (a domain without a row here is left out; absent: 1).
    pub fn set_weights(&mut self, weights: &HashMap<DomainName, Weight>) {
        self.weights = weights
            .iter()
            .filter(|(_, weight)| **weight != Weight::ONE)
            .filter_map(|(domain, weight)| {
                let index = self.index_of(domain.as_str())?;
                Some((index as u32, *weight))
            })
            .collect();
    }

    /// The weight of row `index` (1 when none was given).
    pub fn weight(&self, index: usize) -> Weight {
        u32::try_from(index)
            .ok()
            .and_then(|index| self.weights.get(&index))
            .copied()
            .unwrap_or_default()
    }

    /// Bytes these rows hold: the rows, their names, the interned texts and the side tables
    /// (each heap block counted as glibc's malloc rounds it, hash tables by capacity).
    pub fn heap_bytes(&self) -> usize {
        let stale: usize = self
            .stale
            .values()
            .map(|stale| heap_block(stale.why.len()))
            .sum();
        self.names.capacity()
            + self.name_ends.capacity() * size_of::<u32>()
            + self.facts.capacity() * size_of::<Facts>()
            + self.words.heap_bytes()
            + self.stale.capacity() * (size_of::<(u32, Staleness)>() + 1)
            + stale
            + self.weights.capacity() * (size_of::<(u32, Weight)>() + 1)
    }
}

/// Rows equal row for row (what a test compares with the store's answer).
impl PartialEq<[LatestRow]> for TableRows {
    fn eq(&self, other: &[LatestRow]) -> bool {
        self.len() == other.len()
            && other
                .iter()
                .enumerate()
                .all(|(index, row)| self.to_row(index).as_ref() == Some(row))
    }
}

/// The bytes glibc's malloc takes for a block of `len` bytes (8-byte header, 16-byte steps,
/// 32 at least); nothing for nothing.
pub fn heap_block(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        ((len + 8).div_ceil(16) * 16).max(32)
    }
}

fn facts_of(words: &mut Words, row: &LatestRow) -> Facts {
    Facts {
        cert_not_after: seconds_of(row.cert_not_after),
        last_probed: seconds_of(row.last_probed),
        state_since: seconds_of(row.state_since),
        mx_count: u32::try_from(row.mx_count).unwrap_or(u32::MAX),
        provider: row.provider.as_deref().and_then(|text| words.intern(text)),
        tls_version: row
            .tls_version
            .as_deref()
            .and_then(|text| words.intern(text)),
        verdict: row.verdict,
        tls_grade: row.tls_grade,
        flags: flag_bits(row.starttls)
            | flag_bits(row.pfs) << 2
            | flag_bits(row.strict_valid) << 4
            | if row.stale.is_some() { STALE_BIT } else { 0 },
        auth: row.auth,
    }
}

/// Builds [`TableRows`] a row at a time, as the store hands them out.
#[derive(Debug, Default)]
pub struct RowsBuilder {
    rows: TableRows,
    /// Some row came before its predecessor by name: `finish` sorts.
    unsorted: bool,
}

impl RowsBuilder {
    /// A builder with room for `rows` rows (names grow as they come).
    pub fn with_capacity(rows: usize) -> Self {
        let mut builder = Self::default();
        builder.rows.name_ends.reserve_exact(rows);
        builder.rows.facts.reserve_exact(rows);
        builder
    }

    /// Adds `row`.
    pub fn push(&mut self, row: LatestRow) -> Result<(), TooManyRows> {
        let rows = &mut self.rows;
        let name = row.domain.as_str();
        let end = u32::try_from(rows.names.len() + name.len()).map_err(|_| TooManyRows)?;
        if let Some(last) = rows.len().checked_sub(1) {
            self.unsorted |= rows.name(last) >= name;
        }
        rows.names.push_str(name);
        rows.name_ends.push(end);
        let index = rows.facts.len() as u32;
        rows.facts.push(facts_of(&mut rows.words, &row));
        if let Some(stale) = row.stale {
            rows.stale.insert(index, stale);
        }
        Ok(())
    }

    /// The rows, by name, with no spare capacity.
    pub fn finish(self) -> TableRows {
        let mut rows = self.rows;
        if self.unsorted {
            rows = sorted(rows);
        }
        rows.names.shrink_to_fit();
        rows.name_ends.shrink_to_fit();
        rows.facts.shrink_to_fit();
        rows.stale.shrink_to_fit();
        rows
    }
}

/// `rows` rebuilt in name order (the last of equal names kept, as an update would leave it).
fn sorted(rows: TableRows) -> TableRows {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows.name(a).cmp(rows.name(b)).then(b.cmp(&a)));
    order.dedup_by(|later, earlier| rows.name(*later) == rows.name(*earlier));
    let mut out = TableRows {
        words: rows.words.clone(),
        ..TableRows::default()
    };
    for old in order {
        let name = rows.name(old);
        out.names.push_str(name);
        out.name_ends.push(out.names.len() as u32);
        if let Some(stale) = rows.stale.get(&(old as u32)) {
            out.stale.insert(out.facts.len() as u32, stale.clone());
        }
        if let Some(facts) = rows.facts.get(old) {
            out.facts.push(*facts);
        }
    }
    out
}

/// One row of [`TableRows`], to read; [`Self::to_latest`] gives it whole.
#[derive(Clone, Copy, Debug)]
pub struct RowRef<'a> {
    rows: &'a TableRows,
    index: usize,
    facts: &'a Facts,
}

impl<'a> RowRef<'a> {
    /// Where the row is in its [`TableRows`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The domain name (ASCII form).
    pub fn domain(&self) -> &'a str {
        self.rows.name(self.index)
    }

    /// The verdict shown (None: never probed).
    pub fn verdict(&self) -> Option<Verdict> {
        self.facts.verdict
    }

    /// `starttls` (None: unknown).
    pub fn starttls(&self) -> Option<bool> {
        flag_of(self.facts.flags)
    }

    /// `pfs` (None: unknown).
    pub fn pfs(&self) -> Option<bool> {
        flag_of(self.facts.flags >> 2)
    }

    /// `strict_valid` (None: unknown).
    pub fn strict_valid(&self) -> Option<bool> {
        flag_of(self.facts.flags >> 4)
    }

    /// The domain's `tls_grade`.
    pub fn tls_grade(&self) -> Option<TlsGrade> {
        self.facts.tls_grade
    }

    /// The interned TLS version.
    pub fn tls_version_id(&self) -> Option<WordId> {
        self.facts.tls_version
    }

    /// The TLS version in words (`TLSv1.3`).
    pub fn tls_version(&self) -> Option<&'a str> {
        self.facts.tls_version.map(|id| self.rows.words.text(id))
    }

    /// The interned provider.
    pub fn provider_id(&self) -> Option<WordId> {
        self.facts.provider
    }

    /// The mail provider (`model::provider_of` of the primary MX).
    pub fn provider(&self) -> Option<&'a str> {
        self.facts.provider.map(|id| self.rows.words.text(id))
    }

    /// How many MX hosts.
    pub fn mx_count(&self) -> usize {
        self.facts.mx_count as usize
    }

    /// `cert_not_after` in Unix seconds.
    pub fn cert_not_after_seconds(&self) -> Option<i64> {
        (self.facts.cert_not_after != NO_TIME).then_some(self.facts.cert_not_after)
    }

    /// `last_probed` in Unix seconds.
    pub fn last_probed_seconds(&self) -> Option<i64> {
        (self.facts.last_probed != NO_TIME).then_some(self.facts.last_probed)
    }

    /// `state_since` in Unix seconds.
    pub fn state_since_seconds(&self) -> Option<i64> {
        (self.facts.state_since != NO_TIME).then_some(self.facts.state_since)
    }

    /// DANE, MTA-STS and the sender view.
    pub fn auth(&self) -> RowAuth {
        self.facts.auth
    }

    /// Why and since when the row shows its last known state.
    pub fn stale(&self) -> Option<&'a Staleness> {
        if self.facts.flags & STALE_BIT == 0 {
            return None;
        }
        self.rows.stale.get(&(self.index as u32))
    }

    /// The row's label ([`Grade::of_domain`], as `GradeLook::of_row` gives it).
    pub fn grade(&self) -> Grade {
        Grade::of_domain(
            self.facts.auth.at_risk(),
            self.facts.verdict,
            self.pfs(),
            self.strict_valid(),
            self.facts.tls_grade,
        )
    }

    /// The row whole, as the store gives it (None only if its name no longer parses, which a
    /// name that came from a [`DomainName`] always does).
    pub fn to_latest(&self) -> Option<LatestRow> {
        Some(LatestRow {
            domain: DomainName::parse(self.domain()).ok()?,
            verdict: self.verdict(),
            starttls: self.starttls(),
            pfs: self.pfs(),
            strict_valid: self.strict_valid(),
            tls_version: self.tls_version().map(str::to_string),
            tls_grade: self.tls_grade(),
            cert_not_after: time_of(self.facts.cert_not_after),
            provider: self.provider().map(str::to_string),
            mx_count: self.mx_count(),
            last_probed: time_of(self.facts.last_probed),
            state_since: time_of(self.facts.state_since),
            stale: self.stale().cloned(),
            auth: self.auth(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::varied_rows;

    #[test]
    fn a_row_takes_48_bytes_plus_its_name() {
        assert_eq!(size_of::<Facts>(), 48);
    }

    #[test]
    fn rows_read_back_equal_to_what_they_were_made_of_in_name_order() {
        let mut rows = varied_rows();
        let table = TableRows::from_rows(rows.clone()).expect("fits");
        // Of a name given twice, the last row counts.
        rows.reverse();
        rows.sort_by(|a, b| a.domain.cmp(&b.domain));
        rows.dedup_by(|later, earlier| later.domain == earlier.domain);
        assert_eq!(table.len(), rows.len());
        let back: Vec<LatestRow> = (0..table.len())
            .filter_map(|index| table.to_row(index))
            .collect();
        assert_eq!(back, rows);
        for (index, row) in rows.iter().enumerate() {
            assert_eq!(table.index_of(row.domain.as_str()), Some(index));
            let compact = table.get(index).expect("a row");
            assert_eq!(compact.domain(), row.domain.as_str());
            assert_eq!(compact.provider(), row.provider.as_deref());
            assert_eq!(compact.tls_version(), row.tls_version.as_deref());
        }
        assert_eq!(table.index_of("missing.example"), None);
        assert_eq!(table.index_of(""), None);
    }

    #[test]
    fn providers_and_tls_versions_are_kept_once_and_rank_in_text_order() {
        let table = TableRows::from_rows(varied_rows()).expect("fits");
        let words = table.words();
        // 3 providers and 4 TLS versions, whatever the number of rows.
        assert_eq!(words.len(), 7);
        let ranks = words.ranks();
        let mut texts: Vec<&str> = (0..words.len())
            .filter_map(WordId::at)
            .map(|id| words.text(id))
            .collect();
        texts.sort_by_key(|text| ranks[table.words().ids[*text].index()]);
        let mut expected = texts.clone();
        expected.sort_unstable();
        assert_eq!(texts, expected);
    }

    #[test]
    fn an_update_replaces_one_row_and_its_staleness() {
        let rows = varied_rows();
        let mut table = TableRows::from_rows(rows.clone()).expect("fits");
        let stale_row = rows.iter().find(|row| row.stale.is_some()).expect("one");
        let mut fresh = stale_row.clone();
        fresh.stale = None;
        fresh.provider = Some("new.example".into());
        fresh.verdict = Some(Verdict::TlsOk);
        assert!(table.update(&fresh));
        let index = table.index_of(fresh.domain.as_str()).expect("there");
        assert_eq!(table.to_row(index), Some(fresh.clone()));
        let mut missing = fresh;
        missing.domain = DomainName::parse("not-there.example").expect("valid");
        assert!(!table.update(&missing));
    }

    #[test]
    fn rows_in_any_order_come_out_by_name_and_weights_follow_their_domain() {
        let name = |text: &str| DomainName::parse(text).expect("valid");
        let mut rows = varied_rows();
        rows.truncate(3);
        rows[0].domain = name("c.example");
        rows[1].domain = name("a.example");
        rows[2].domain = name("b.example");
        let table = TableRows::from_rows(rows.clone()).expect("fits");
        let names: Vec<&str> = table.iter().map(|row| row.domain()).collect();
        assert_eq!(names, ["a.example", "b.example", "c.example"]);
        assert_eq!(table.to_row(2), Some(rows[0].clone()));
        let mut table = table;
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        table.set_weights(&HashMap::from([
            (name("c.example"), weigh(7.0)),
            (name("z.example"), weigh(3.0)),
        ]));
        assert_eq!(table.weight(2), weigh(7.0));
        assert_eq!(table.weight(0), Weight::ONE);
    }
}

/// Rows for tests of the table: varied, with ties, gaps, punycode names and stale rows.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::model::auth::{DaneSetStatus, MtaStsOutcome, SenderOutcome, SenderView};

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).expect("in range")
    }

    /// 400 rows that between them take every kind of value each field has, many equal (ties
    /// go by name), some missing; names in no order, a few duplicated (the last one counts).
    pub(crate) fn varied_rows() -> Vec<LatestRow> {
        let flags = [None, Some(false), Some(true)];
        let verdicts = [
            None,
            Some(Verdict::TlsOk),
            Some(Verdict::NoStarttls),
            Some(Verdict::TlsFailed),
            Some(Verdict::Untestable),
            Some(Verdict::NoMail),
        ];
        let grades = [
            None,
            Some(TlsGrade::Good),
            Some(TlsGrade::Sufficient),
            Some(TlsGrade::PhaseOut),
            Some(TlsGrade::Insufficient),
        ];
        let versions = [
            None,
            Some("TLSv1.3"),
            Some("TLSv1.2"),
            Some("SSLv3"),
            Some("odd"),
        ];
        let providers = [
            None,
            Some("google.com"),
            Some("b.example"),
            Some("a.example"),
        ];
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let times = [
            None,
            Some(-62_000_000_000),
            Some(now - 3 * 86_400),
            Some(now + 10 * 86_400),
            Some(now + 90 * 86_400),
            Some(253_000_000_000),
        ];
        let danes = [
            None,
            Some(DaneSetStatus::Valid),
            Some(DaneSetStatus::Failed),
            Some(DaneSetStatus::None),
        ];
        let mta_stses = [
            None,
            Some(MtaStsOutcome::EnforceOk),
            Some(MtaStsOutcome::None),
        ];
        let mut rng = fastrand::Rng::with_seed(5);
        (0..400)
            .map(|index| {
                let pick = |rng: &mut fastrand::Rng, len: usize| rng.usize(0..len);
                let stale = (index % 37 == 0).then(|| Staleness {
                    since: at(1_700_000_000 + index),
                    last_known_at: at(1_600_000_000),
                    why: format!("why {index}"),
                });
                let sender = (index % 3 == 0).then_some(SenderView {
                    dane: SenderOutcome::Defers,
                    mta_sts: SenderOutcome::Authenticated,
                    authenticated: index % 2 == 0,
                    at_risk: index % 5 == 0,
                });
                let name = match index % 50 {
                    0 => format!("xn--bcher-kva{}.example", rng.u8(..)),
                    1 => "google.example".to_string(),
                    _ => format!("d{}.example", rng.u16(..)),
                };
                LatestRow {
                    domain: DomainName::parse(&name).expect("valid"),
                    verdict: verdicts[pick(&mut rng, verdicts.len())],
                    starttls: flags[pick(&mut rng, 3)],
                    pfs: flags[pick(&mut rng, 3)],
                    strict_valid: flags[pick(&mut rng, 3)],
                    tls_version: versions[pick(&mut rng, versions.len())].map(str::to_string),
                    tls_grade: grades[pick(&mut rng, grades.len())],
                    cert_not_after: times[pick(&mut rng, times.len())].map(at),
                    provider: providers[pick(&mut rng, providers.len())].map(str::to_string),
                    mx_count: pick(&mut rng, 4),
                    last_probed: times[pick(&mut rng, times.len())].map(at),
                    state_since: times[pick(&mut rng, times.len())].map(at),
                    stale,
                    auth: RowAuth {
                        dane: danes[pick(&mut rng, danes.len())],
                        mta_sts: mta_stses[pick(&mut rng, mta_stses.len())],
                        sender,
                    },
                }
            })
            .collect()
    }
}
