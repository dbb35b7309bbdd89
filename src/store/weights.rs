//! Weights by mail volume: one per list membership (DESIGN.md "Weighted by mail volume").
//!
//! Owns: reading and writing `list_domains.weight`, and which weight a domain has outside a
//! list (for "All domains": the largest weight it has in any list, 1 when it is in none; the
//! roll-ups use the same rule, `queries::weight_sql`). Must not touch: how weights are counted
//! (`model::adoption::VolumeCounts`) or read from files (`import`).

use std::collections::HashMap;

use rusqlite::params;

use super::queries::{list_key, weight_sql};
use super::{AddReport, ListId, Store, StoreError};
use crate::model::{DomainName, Weight};

impl Store {
    /// Adds `domains` to the database and to `list` (as [`Store::add_domains`]) and sets each
    /// one's weight in `list`: an import with a volume column. A domain given twice keeps the
    /// weight it is given last (the importer has already added duplicates' weights up).
    pub fn add_weighted_domains(
        &self,
        list: ListId,
        domains: &[(DomainName, Weight)],
    ) -> Result<AddReport, StoreError> {
        let names: Vec<DomainName> = domains.iter().map(|(domain, _)| domain.clone()).collect();
        let report = self.add_domains(Some(list), &names)?;
        self.set_weights(list, domains)?;
        Ok(report)
    }

    /// Sets the weight of each domain in `list`, in one transaction; domains that are not in
    /// the list are left out. Returns how many memberships were changed.
    pub fn set_weights(
        &self,
        list: ListId,
        weights: &[(DomainName, Weight)],
    ) -> Result<usize, StoreError> {
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        let mut changed = 0;
        {
            let mut update = transaction
                .prepare_cached(
                    "UPDATE list_domains SET weight = ?3 WHERE list_id = ?1
                     AND domain_id = (SELECT id FROM domains WHERE name = ?2)",
                )
                .map_err(|error| self.fail(error))?;
            for (domain, weight) in weights {
                changed += update
                    .execute(params![list.0, domain.as_str(), weight.get()])
                    .map_err(|error| self.fail(error))?;
            }
        }
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(changed)
    }

    /// The weight of `domain` in `list` (None: all domains, see the module doc); None when
    /// `list` is given and the domain is not in it.
    pub fn weight(
        &self,
        list: Option<ListId>,
        domain: &DomainName,
    ) -> Result<Option<Weight>, StoreError> {
        let weights = self.weights_where(list, Some(domain), false)?;
        Ok(weights.into_values().next())
    }

    /// Every domain's weight in `list` (None: every stored domain, see the module doc).
    pub fn weights(&self, list: Option<ListId>) -> Result<HashMap<DomainName, Weight>, StoreError> {
        self.weights_where(list, None, false)
    }

    /// The domains of `list` (None: every stored domain) that weigh other than 1, with their
    /// weight: every other domain of it weighs 1. What the app's snapshot needs of a million
    /// domains in which a few thousand carry mail volumes, without a map of the million.
    pub fn weights_other_than_one(
        &self,
        list: Option<ListId>,
    ) -> Result<HashMap<DomainName, Weight>, StoreError> {
        self.weights_where(list, None, true)
    }

    /// Whether some domain of `list` (None: any list) weighs other than 1: the list was
    /// imported with volumes or weighed by hand, and volume figures say more than domain ones.
    pub fn is_weighted(&self, list: Option<ListId>) -> Result<bool, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM list_domains WHERE (?1 IS NULL OR list_id = ?1)
                 AND weight <> 1)",
            )
            .and_then(|mut statement| {
                statement.query_row(params![list.map(|id| id.0)], |row| row.get(0))
            })
            .map_err(|error| self.fail(error))
    }

    /// The weights of `list`'s domains (only `domain`'s, when given; only those other than 1,
    /// when `other_than_one`).
    fn weights_where(
        &self,
        list: Option<ListId>,
        domain: Option<&DomainName>,
        other_than_one: bool,
    ) -> Result<HashMap<DomainName, Weight>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        // A domain weighs other than 1 only with some membership that does (`weight_sql`
        // falls back to 1): those are the only candidates, when only they are asked for.
        let sql = format!(
            "SELECT d.name, {weight} AS weight FROM domains d
             WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
               AND (?2 IS NULL OR d.name = ?2)
               AND (?3 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE weight <> 1))
               AND (?3 = 0 OR weight <> 1)",
            weight = weight_sql("d"),
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
        let mut rows = statement
            .query(params![
                list_key(list),
                domain.map(DomainName::as_str),
                other_than_one
            ])
            .map_err(fail)?;
        let mut weights = HashMap::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let name: String = row.get(0).map_err(fail)?;
            let value: f64 = row.get(1).map_err(fail)?;
            let (Ok(domain), Ok(weight)) = (DomainName::parse(&name), Weight::new(value)) else {
                tracing::warn!(
                    "database {}: skipping the stored weight {value} of '{name}'",
                    self.path.display()
                );
                continue;
            };
            weights.insert(domain, weight);
        }
        Ok(weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{address, mx_host};
    use crate::model::{DnsError, DomainResult, Outcome};

    fn name(text: &str) -> DomainName {
        DomainName::parse(text).expect("valid test domain")
    }

    fn weigh(value: f64) -> Weight {
        Weight::new(value).expect("a weight")
    }

    /// A store with two lists: "mail" holds big.example (900),
    /// small.example (0.5) and `more`; "other" is empty.
    fn mail_and_other(more: &[(DomainName, Weight)]) -> (Store, ListId, ListId) {
        let store = Store::open_in_memory().expect("store");
        let mail = store.create_list("mail").expect("list");
        let other = store.create_list("other").expect("list");
        let mut members = vec![
            (name("big.example"), weigh(900.0)),
            (name("small.example"), weigh(0.5)),
        ];
        members.extend_from_slice(more);
        store.add_weighted_domains(mail, &members).expect("add");
        (store, mail, other)
    }

    #[test]
    fn the_weights_other_than_one_are_every_weight_that_is_not_one() {
        let (store, mail, other) = mail_and_other(&[(name("one.example"), Weight::ONE)]);
        store
            .add_domains(Some(other), &[name("small.example"), name("plain.example")])
            .expect("add");
        store
            .add_domains(None, &[name("outside.example")])
            .expect("add");
        for list in [None, Some(mail), Some(other)] {
            let all = store.weights(list).expect("all");
            let expected: HashMap<DomainName, Weight> = all
                .into_iter()
                .filter(|(_, weight)| *weight != Weight::ONE)
                .collect();
            assert_eq!(
                store.weights_other_than_one(list).expect("other than one"),
                expected,
                "{list:?}"
            );
        }
        // small.example weighs 0.5 in one list and 1 in the other: 1 across all domains.
        let across = store.weights_other_than_one(None).expect("read");
        assert_eq!(across.len(), 1, "{across:?}");
        assert_eq!(across.get(&name("big.example")), Some(&weigh(900.0)));
        let in_mail = store.weights_other_than_one(Some(mail)).expect("read");
        assert_eq!(in_mail.len(), 2, "{in_mail:?}");
        assert!(
            store
                .weights_other_than_one(Some(other))
                .expect("read")
                .is_empty()
        );
    }

    #[test]
    fn a_weight_belongs_to_a_membership_and_defaults_to_one() {
        let (store, mail, other) = mail_and_other(&[]);
        store
            .add_domains(Some(other), &[name("big.example"), name("plain.example")])
            .expect("add");
        assert_eq!(
            store
                .weight(Some(mail), &name("big.example"))
                .expect("read"),
            Some(weigh(900.0))
        );
        assert_eq!(
            store
                .weight(Some(other), &name("big.example"))
                .expect("read"),
            Some(Weight::ONE)
        );
        assert_eq!(
            store
                .weight(Some(other), &name("small.example"))
                .expect("read"),
            None,
            "not in that list"
        );
        let all = store.weights(None).expect("read");
        assert_eq!(
            all.get(&name("big.example")),
            Some(&weigh(900.0)),
            "the largest weight"
        );
        assert_eq!(all.get(&name("plain.example")), Some(&Weight::ONE));
        assert!(store.is_weighted(Some(mail)).expect("read"));
        assert!(!store.is_weighted(Some(other)).expect("read"));
        assert_eq!(
            store
                .set_weights(
                    other,
                    &[
                        (name("plain.example"), weigh(2.0)),
                        (name("small.example"), weigh(3.0))
                    ]
                )
                .expect("set"),
            1,
            "only members change"
        );
        assert!(store.is_weighted(Some(other)).expect("read"));
        store
            .remove_domains(Some(mail), &[name("big.example")])
            .expect("remove");
        assert_eq!(
            store.weights(None).expect("read").get(&name("big.example")),
            Some(&Weight::ONE)
        );
    }

    /// 2026-01-10 12:00 UTC, plus `days`.
    fn day(days: i64) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_768_046_400).expect("valid")
            + time::Duration::days(days)
    }

    fn probed(
        domain: &str,
        mx: &str,
        outcome: Outcome,
        pfs: bool,
        at: time::OffsetDateTime,
    ) -> DomainResult {
        let host = mx_host(mx, vec![address(outcome, pfs, true)]);
        DomainResult::new(name(domain), false, None, at, vec![host])
    }

    #[test]
    fn roll_ups_weigh_each_domain_by_its_membership_and_keep_the_stale_rule() {
        let store = Store::open_in_memory().expect("store");
        let mail = store.create_list("mail").expect("list");
        store
            .add_weighted_domains(
                mail,
                &[
                    (name("big.example"), weigh(900.0)),
                    (name("small.example"), weigh(100.0)),
                    (name("zero.example"), Weight::ZERO),
                ],
            )
            .expect("add");
        for result in [
            probed("big.example", "mx.google.com", Outcome::TlsOk, true, day(0)),
            probed(
                "small.example",
                "mx.small.example",
                Outcome::TlsOk,
                false,
                day(0),
            ),
            probed(
                "zero.example",
                "mx.zero.example",
                Outcome::NoStarttls,
                false,
                day(0),
            ),
        ] {
            store.record_result(None, &result, 14).expect("record");
        }
        store.refresh_rollup(Some(mail), day(0)).expect("roll-up");
        store.refresh_rollup(None, day(0)).expect("roll-up");
        // A day later big.example's DNS times out: it keeps its last known state, weight and all.
        let outage = DomainResult::new(
            name("big.example"),
            false,
            Some(DnsError::Timeout),
            day(1),
            vec![],
        );
        store.record_result(None, &outage, 14).expect("record");
        store.refresh_rollup(Some(mail), day(1)).expect("roll-up");

        let points = store.trends(Some(mail), None).expect("trends");
        assert_eq!(points.len(), 2);
        let first = points[0].volume.clone().expect("weighted figures");
        assert_eq!(
            (
                first.total,
                first.testable,
                first.starttls,
                first.pfs,
                first.all_three
            ),
            (1000.0, 1000.0, 900.0 + 100.0, 900.0, 900.0)
        );
        assert_eq!(
            points[0].domains.testable, 3,
            "weight 0 still counts as a domain"
        );
        let second = points[1].volume.clone().expect("weighted figures");
        assert_eq!(
            (
                second.testable,
                second.all_three,
                second.stale,
                second.untestable
            ),
            (1000.0, 900.0, 900.0, 0.0)
        );
        assert_eq!(points[1].domains.stale, 1);
        let all = store.trends(None, None).expect("trends");
        assert_eq!(
            all[0].volume.as_ref().map(|volume| volume.testable),
            Some(1000.0),
            "all domains: the largest weight"
        );
        assert_eq!(
            store
                .latest_volume_rollups()
                .expect("read")
                .get(&Some(mail))
                .map(|volume| volume.stale),
            Some(900.0)
        );

        let providers = store.providers(Some(mail), 10).expect("providers");
        let google = providers
            .iter()
            .find(|row| row.provider == "google.com")
            .expect("google");
        assert_eq!(
            (
                google.counts.total,
                google.volume.total,
                google.volume.stale
            ),
            (1, 900.0, 900.0)
        );
        let share: f64 =
            google.volume.total / providers.iter().map(|row| row.volume.total).sum::<f64>();
        assert_eq!(
            share, 0.9,
            "90 % of the list's mail goes to Google's MX hosts"
        );
    }
}
