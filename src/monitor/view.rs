//! What the desktop app shows, loaded from the store on the monitor's side and handed over as
//! owned snapshots; and the user's edits of domains and lists, applied to the store.
//!
//! Owns: which queries make up a view (one call, one consistent snapshot) and how an edit is
//! described back to the user. Must not touch: drawing, scans, anything that blocks the UI
//! (these functions run on the monitor's blocking pool, never on the UI thread).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::model::{DomainName, DomainResult, Weight};
use crate::settings::Settings;
pub use crate::store::{
    AddReport, ChangeKind, DomainHistoryRun, EventRow, HostTrendCounts, LatestRow, ProviderRow,
    ScanCounts, ScanInfo, Staleness, TrendCounts, TrendPoint, VolumeCounts,
};
use crate::store::{LatestFilter, ListId, ProviderTally, Store, StoreError};

pub mod rows;

use rows::TableRows;

/// How many recent change events a view carries.
pub const VIEW_EVENT_LIMIT: usize = 500;
/// How many providers the breakdown shows.
pub const VIEW_PROVIDER_LIMIT: usize = 15;

/// One entry of the list panel.
#[derive(Clone, Debug, PartialEq)]
pub struct ListSummary {
    /// None: "All domains".
    pub name: Option<String>,
    pub domain_count: usize,
    /// Counts as of the list's last scan (None before its first scan).
    pub latest: Option<TrendCounts>,
    /// The same weighted by mail volume, for a list with weights (None: no weights, or no
    /// roll-up with weighted figures yet).
    pub latest_volume: Option<VolumeCounts>,
}

/// Everything the main window draws for one selected list, read in one go.
#[derive(Clone, Debug)]
pub struct ViewSnapshot {
    /// The list the rows, trends, providers and events belong to (None: all domains).
    pub list: Option<String>,
    /// "All domains" first, then every named list by name.
    pub lists: Vec<ListSummary>,
    /// Latest state of every domain of the list, by name, compact, with each domain's weight
    /// (mail volume) in the list — for All domains the largest weight it has in any list. The
    /// app moves them into the table model.
    pub rows: TableRows,
    pub trends: Vec<TrendPoint>,
    pub providers: Vec<ProviderRow>,
    /// Newest first.
    pub events: Vec<EventRow>,
    pub settings: Settings,
    /// Newest first, a few.
    pub recent_scans: Vec<ScanInfo>,
    /// Where the scans' network path changed (direct / through a proxy), oldest first: the
    /// Trends chart marks each.
    pub path_changes: Vec<(time::OffsetDateTime, crate::model::NetworkPath)>,
    pub db_path: PathBuf,
    /// How long the store took to produce this snapshot.
    pub load_time: Duration,
    /// The domain detail asked for with the view, read in the same transaction as the rows.
    pub detail: Option<Box<DomainDetail>>,
    /// The sum of `weights` over the list's domains: the whole of "share of the list's mail".
    pub weight_total: f64,
    /// Whether some domain of the list weighs other than 1 (volume figures say something).
    pub weighted: bool,
    /// The webhook delivery log, newest first, a few (the Settings tab shows it).
    pub webhook_log: Vec<crate::store::WebhookDelivery>,
}

/// What importing a CSV file would do.
#[derive(Clone, Debug)]
pub struct ImportReport {
    pub path: PathBuf,
    pub preview: crate::import::ImportPreview,
    /// Of the file's valid domains, how many the database holds already.
    pub already_present: usize,
}

/// One domain in full: what the detail panel shows.
#[derive(Clone, Debug)]
pub struct DomainDetail {
    pub domain: DomainName,
    pub latest: Option<DomainResult>,
    /// Stretches of unchanged results, oldest first.
    pub history: Vec<DomainHistoryRun>,
    /// Newest first.
    pub events: Vec<EventRow>,
}

/// A change to domains or lists the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Adds domains to the database and to `list` when given (created if missing).
    AddDomains {
        list: Option<String>,
        domains: Vec<DomainName>,
    },
    /// Removes domains from `list`, or from the database with their history when None.
    RemoveDomains {
        list: Option<String>,
        domains: Vec<DomainName>,
    },
    CreateList(String),
    RenameList {
        from: String,
        to: String,
    },
    /// Deletes the list (its domains stay in the database).
    DeleteList(String),
    /// Adds domains to `list` (created if missing) with their weights (an import with a
    /// volume column).
    AddWeightedDomains {
        list: String,
        domains: Vec<(DomainName, Weight)>,
    },
    /// Sets one domain's weight in `list`.
    SetWeight {
        list: String,
        domain: DomainName,
        weight: Weight,
    },
}

/// Reads the snapshot of `list` (None: all domains).
pub fn load_view(store: &Store, list: Option<&str>) -> Result<ViewSnapshot, StoreError> {
    load_view_with_detail(store, list, None)
}

/// Reads the snapshot of `list` (None: all domains) and the detail of `detail`, all in one read
/// transaction: another process committing meanwhile shows in the next snapshot, never in half
/// of this one.
pub fn load_view_with_detail(
    store: &Store,
    list: Option<&str>,
    detail: Option<&DomainName>,
) -> Result<ViewSnapshot, StoreError> {
    store.read_consistent(|store| {
        let mut snapshot = read_view(store, list)?;
        snapshot.detail = detail
            .map(|domain| load_domain(store, domain).map(Box::new))
            .transpose()?;
        Ok(snapshot)
    })
}

fn read_view(store: &Store, list: Option<&str>) -> Result<ViewSnapshot, StoreError> {
    let started = Instant::now();
    // A list deleted meanwhile (by the command line, say) falls back to all domains; the
    // snapshot's `list` tells the app which list it got.
    let (list, list_id) = match list {
        Some(name) => match store.list_id(name)? {
            Some(id) => (Some(name), Some(id)),
            None => (None, None),
        },
        None => (None, None),
    };
    let rollups = store.latest_rollups()?;
    let volumes = store.latest_volume_rollups()?;
    let weighted_volume = |list: Option<ListId>| -> Result<Option<VolumeCounts>, StoreError> {
        Ok(match volumes.get(&list) {
            Some(volume) if store.is_weighted(list)? => Some(volume.clone()),
            _ => None,
        })
    };
    let mut lists = vec![ListSummary {
        name: None,
        domain_count: store.domain_count(None)?,
        latest: rollups.get(&None).cloned(),
        latest_volume: weighted_volume(None)?,
    }];
    for info in store.lists()? {
        lists.push(ListSummary {
            latest: rollups.get(&Some(info.id)).cloned(),
            latest_volume: weighted_volume(Some(info.id))?,
            name: Some(info.name),
            domain_count: info.domain_count,
        });
    }
    // An unweighted list (every domain weighs 1) needs no map of a million ones.
    let weighted = store.is_weighted(list_id)?;
    // The domains that weigh other than 1 (a few thousand with mail volumes, say): every
    // other one weighs 1, and a million domains need no map of their ones.
    let weights = if weighted {
        store.weights_other_than_one(list_id)?
    } else {
        HashMap::new()
    };
    // Row by row into the compact rows and the providers' counts: the whole list is never
    // held as `LatestRow`s, and read once.
    let expected_rows = lists
        .iter()
        .find(|summary| summary.name.as_deref() == list)
        .map_or(0, |summary| summary.domain_count);
    let mut builder = rows::RowsBuilder::with_capacity(expected_rows);
    let mut providers = ProviderTally::default();
    let mut too_many = None;
    let every_row = LatestFilter {
        list: list_id,
        ..LatestFilter::default()
    };
    store.latest_each(&every_row, |row| {
        let weight = weights.get(&row.domain).copied().unwrap_or(Weight::ONE);
        providers.add(&row, weight);
        if too_many.is_none() {
            too_many = builder.push(row).err();
        }
    })?;
    if let Some(error) = too_many {
        return Err(StoreError::Invalid(error.to_string()));
    }
    let mut rows = builder.finish();
    // Every domain of the list weighs 1 but those in `weights`, those never probed too.
    let weight_total = expected_rows.saturating_sub(weights.len()) as f64
        + weights.values().map(|weight| weight.get()).sum::<f64>();
    rows.set_weights(&weights);
    drop(weights);
    Ok(ViewSnapshot {
        list: list.map(str::to_string),
        lists,
        rows,
        trends: store.trends(list_id, None)?,
        providers: providers.finish(VIEW_PROVIDER_LIMIT),
        events: store.events(list_id, None, None, VIEW_EVENT_LIMIT)?,
        settings: store.settings()?,
        recent_scans: store.scans(5)?,
        path_changes: store.path_changes()?,
        db_path: store.path().to_path_buf(),
        load_time: started.elapsed(),
        detail: None,
        weighted,
        weight_total,
        webhook_log: store.webhook_deliveries(VIEW_WEBHOOK_LOG_LIMIT)?,
    })
}

/// Webhook deliveries a view carries.
const VIEW_WEBHOOK_LOG_LIMIT: usize = 10;

/// Reads one domain in full.
pub fn load_domain(store: &Store, domain: &DomainName) -> Result<DomainDetail, StoreError> {
    Ok(DomainDetail {
        domain: domain.clone(),
        latest: store.latest_result(domain)?,
        history: store.history(domain)?,
        events: store.events(None, Some(domain), None, 200)?,
    })
}

/// Applies `edit`; returns what happened, in words, for the status line.
pub fn apply_edit(store: &Store, edit: &Edit) -> Result<String, StoreError> {
    match edit {
        Edit::AddDomains { list, domains } => {
            let list_id = list
                .as_deref()
                .map(|name| store.ensure_list(name))
                .transpose()?;
            let report = store.add_domains(list_id, domains)?;
            let duplicates = format!(
                "{} duplicate{}",
                report.duplicates,
                if report.duplicates == 1 { "" } else { "s" }
            );
            // With a list, what the user did is how many joined it; domains already in the
            // database join too, so "added" alone would undercount.
            Ok(match list.as_deref() {
                Some(name) => format!(
                    "{} added to list '{name}' ({} new, {} already in the database), {duplicates}",
                    plural(report.joined_list, "domain"),
                    report.added,
                    report.already_present,
                ),
                None => format!(
                    "{} added to the database, {} already present, {duplicates}",
                    plural(report.added, "domain"),
                    report.already_present,
                ),
            })
        }
        Edit::RemoveDomains { list, domains } => {
            let list_id: Option<ListId> = list
                .as_deref()
                .map(|name| store.require_list(name))
                .transpose()?;
            let removed = store.remove_domains(list_id, domains)?;
            Ok(match list {
                Some(name) => format!("{} removed from list '{name}'", plural(removed, "domain")),
                None => format!(
                    "{} and their history removed from the database",
                    plural(removed, "domain")
                ),
            })
        }
        Edit::CreateList(name) => {
            store.create_list(name)?;
            Ok(format!("list '{name}' created"))
        }
        Edit::RenameList { from, to } => {
            store.rename_list(from, to)?;
            Ok(format!("list '{from}' renamed to '{to}'"))
        }
        Edit::DeleteList(name) => {
            store.delete_list(name)?;
            Ok(format!(
                "list '{name}' deleted (its domains stay under All domains)"
            ))
        }
        Edit::AddWeightedDomains { list, domains } => {
            let list_id = store.ensure_list(list)?;
            let report = store.add_weighted_domains(list_id, domains)?;
            let total: f64 = domains.iter().map(|(_, weight)| weight.get()).sum();
            Ok(format!(
                "{} added to list '{list}' ({} new, {} already in the database), mail volume {}",
                plural(report.joined_list, "domain"),
                report.added,
                report.already_present,
                crate::model::weight::format_volume(total),
            ))
        }
        Edit::SetWeight {
            list,
            domain,
            weight,
        } => {
            let list_id = store.require_list(list)?;
            match store.set_weights(list_id, &[(domain.clone(), *weight)])? {
                0 => Err(StoreError::Invalid(format!(
                    "{domain} is not in list '{list}'"
                ))),
                _ => Ok(format!("{domain} weighs {weight} in list '{list}'")),
            }
        }
    }
}

/// The table row a fresh result gives, so the app can update one row while a scan runs
/// without reloading every row: a stale result (one the store gave its `last_known`) shows
/// that state, marked stale. `previous` keeps "state since" when the verdict is unchanged.
pub fn row_from_result(result: &DomainResult, previous: Option<&LatestRow>) -> LatestRow {
    let mut row = crate::store::latest_row_of(result);
    if let Some(previous) = previous.filter(|previous| previous.verdict == row.verdict) {
        row.state_since = previous.state_since;
    }
    row
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// When the next scheduled scan is due, in words relative to `now` ("in 3 h 20 min").
pub fn describe_until(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (at - now).whole_seconds();
    if seconds <= 0 {
        return "due now".to_string();
    }
    format!(
        "in {}",
        describe_duration(Duration::from_secs(seconds.unsigned_abs()))
    )
}

/// A duration in words, coarse: "45 s", "3 min", "2 h 5 min", "3 d 4 h".
pub fn describe_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86_400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> DomainName {
        DomainName::parse(text).expect("valid test domain")
    }

    #[test]
    fn a_view_of_an_empty_database_has_the_all_domains_entry_and_nothing_else() {
        let store = Store::open_in_memory().expect("store");
        let view = load_view(&store, None).expect("view");
        assert_eq!(view.lists.len(), 1);
        assert_eq!(view.lists[0].name, None);
        assert_eq!(view.lists[0].domain_count, 0);
        assert!(view.rows.is_empty());
        assert!(view.trends.is_empty());
    }

    #[test]
    fn domains_already_stored_that_join_a_list_count_as_added_to_it() {
        let store = Store::open_in_memory().expect("store");
        let add = |list: Option<&str>, domains: &[&str]| {
            apply_edit(
                &store,
                &Edit::AddDomains {
                    list: list.map(str::to_string),
                    domains: domains.iter().map(|domain| name(domain)).collect(),
                },
            )
            .expect("add")
        };
        assert_eq!(
            add(None, &["a.example"]),
            "1 domain added to the database, 0 already present, 0 duplicates"
        );
        assert_eq!(
            add(Some("partners"), &["a.example", "c.example"]),
            "2 domains added to list 'partners' (1 new, 1 already in the database), 0 duplicates"
        );
    }

    #[test]
    fn weighted_imports_and_weight_edits_are_applied_and_described() {
        let store = Store::open_in_memory().expect("store");
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        let message = apply_edit(
            &store,
            &Edit::AddWeightedDomains {
                list: "outbound".into(),
                domains: vec![
                    (name("a.example"), weigh(1500.0)),
                    (name("b.example"), weigh(0.5)),
                ],
            },
        )
        .expect("add");
        assert_eq!(
            message,
            "2 domains added to list 'outbound' (2 new, 0 already in the database), mail volume 1 500.5"
        );
        let view = load_view(&store, Some("outbound")).expect("view");
        assert!(view.weighted);
        assert_eq!(view.weight_total, 1500.5);
        let a = view.rows.index_of("a.example").expect("a row");
        assert_eq!(view.rows.weight(a), weigh(1500.0));
        let message = apply_edit(
            &store,
            &Edit::SetWeight {
                list: "outbound".into(),
                domain: name("b.example"),
                weight: weigh(2.0),
            },
        )
        .expect("set");
        assert_eq!(message, "b.example weighs 2 in list 'outbound'");
        let error = apply_edit(
            &store,
            &Edit::SetWeight {
                list: "outbound".into(),
                domain: name("c.example"),
                weight: weigh(2.0),
            },
        )
        .expect_err("not a member");
        assert!(
            error.to_string().contains("not in list 'outbound'"),
            "{error}"
        );
        let unweighted = load_view(&store, None).expect("view");
        assert!(unweighted.weighted, "all domains: some list has weights");
        assert_eq!(unweighted.lists[1].latest_volume, None, "no roll-up yet");
    }

    #[test]
    fn edits_are_applied_and_described() {
        let store = Store::open_in_memory().expect("store");
        let message = apply_edit(
            &store,
            &Edit::AddDomains {
                list: Some("customers".into()),
                domains: vec![name("a.example"), name("b.example"), name("a.example")],
            },
        )
        .expect("add");
        assert_eq!(
            message,
            "2 domains added to list 'customers' (2 new, 0 already in the database), 1 duplicate"
        );
        let view = load_view(&store, Some("customers")).expect("view");
        assert_eq!(view.lists.len(), 2);
        assert_eq!(view.lists[1].name.as_deref(), Some("customers"));
        assert_eq!(view.lists[1].domain_count, 2);
        assert_eq!(view.rows.len(), 2);

        apply_edit(
            &store,
            &Edit::RenameList {
                from: "customers".into(),
                to: "clients".into(),
            },
        )
        .expect("rename");
        let removed = apply_edit(
            &store,
            &Edit::RemoveDomains {
                list: Some("clients".into()),
                domains: vec![name("a.example")],
            },
        )
        .expect("remove");
        assert_eq!(removed, "1 domain removed from list 'clients'");
        let view = load_view(&store, Some("clients")).expect("view");
        assert_eq!(view.rows.len(), 1);
        assert_eq!(view.lists[0].domain_count, 2, "still in the database");

        apply_edit(&store, &Edit::DeleteList("clients".into())).expect("delete");
        let view = load_view(&store, Some("clients")).expect("falls back to all domains");
        assert_eq!(view.list, None);
        assert_eq!(view.rows.len(), 2);
    }

    #[test]
    fn a_stale_result_updates_its_row_to_the_last_known_state_marked_stale() {
        use crate::model::test_support::{address, mx_host};
        use crate::model::{DnsError, Outcome, Verdict};
        let at = |hours: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::hours(hours);
        let host = mx_host("mx.a.example", vec![address(Outcome::TlsOk, true, true)]);
        let good = DomainResult::new(name("a.example"), false, None, at(1), vec![host]);
        let first = row_from_result(&good, None);
        assert_eq!(first.stale, None);
        assert_eq!(first.state_since, Some(at(1)));

        let mut outage = DomainResult::new(
            name("a.example"),
            false,
            Some(DnsError::Timeout),
            at(3),
            vec![],
        );
        let plain = row_from_result(&outage, Some(&first));
        assert_eq!(
            plain.verdict,
            Some(Verdict::Untestable),
            "no last known: as probed"
        );
        outage.stale_since = Some(at(3));
        outage.last_known = Some(Box::new(good));
        let row = row_from_result(&outage, Some(&first));
        assert_eq!(row.verdict, Some(Verdict::TlsOk));
        assert_eq!(row.strict_valid, Some(true));
        assert_eq!(row.mx_count, 1);
        assert_eq!(row.last_probed, Some(at(3)));
        assert_eq!(row.state_since, Some(at(1)), "the state did not change");
        let stale = row.stale.expect("marked stale");
        assert_eq!(stale.since, at(3));
        assert_eq!(stale.last_known_at, at(1));
        assert_eq!(stale.why, "DNS timeout");
        assert_eq!(row_from_result(&outage, None).state_since, Some(at(1)));
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(describe_duration(Duration::from_secs(42)), "42 s");
        assert_eq!(describe_duration(Duration::from_secs(200)), "3 min");
        assert_eq!(describe_duration(Duration::from_secs(7_500)), "2 h 5 min");
        assert_eq!(
            describe_duration(Duration::from_secs(3 * 86_400 + 4 * 3600)),
            "3 d 4 h"
        );
    }
}
