//! A list of domain names kept end to end in one text buffer, shared by cheap clones: what a
//! scan probes and what the monitor holds while it runs. A million names take about 20 MB
//! here, where a `Vec<DomainName>` takes about 56 MB (a heap block per name).
//!
//! Owns: the compact list and its lookups. Every name in it was a valid [`DomainName`] when it
//! was added, so reading one back needs no second check. Must not touch: where the names come
//! from (the store, the command line) or what is done with them.

use std::sync::Arc;

use super::DomainName;

/// Domain names in the order given, end to end. Clones share the names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainNames(Arc<Names>);

#[derive(Debug, Default, PartialEq, Eq)]
struct Names {
    text: String,
    /// Where each name ends in `text`.
    ends: Vec<usize>,
}

impl DomainNames {
    pub fn len(&self) -> usize {
        self.0.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.ends.is_empty()
    }

    /// Name `index` as text.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.0.ends.get(index)?;
        let start = index.checked_sub(1).map_or(0, |before| self.0.ends[before]);
        self.0.text.get(start..end)
    }

    /// Name `index` as a [`DomainName`] of its own (a copy of its text).
    pub fn name(&self, index: usize) -> Option<DomainName> {
        self.get(index).map(|name| DomainName(name.to_string()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// Whether `name` is in a list sorted by name (as [`Self::sorted_unique`] gives).
    pub fn sorted_contains(&self, name: &str) -> bool {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.get(middle).map(|probe| probe.cmp(name)) {
                Some(std::cmp::Ordering::Less) => low = middle + 1,
                Some(std::cmp::Ordering::Greater) => high = middle,
                Some(std::cmp::Ordering::Equal) => return true,
                None => return false,
            }
        }
        false
    }

    /// The names that `keep` lets through, sorted by name, each once (the list itself when
    /// that is already all of it, as a list read from the store by name is).
    pub fn sorted_unique(&self, mut keep: impl FnMut(&str) -> bool) -> Self {
        let mut names: Vec<&str> = self.iter().filter(|name| keep(name)).collect();
        if names.len() == self.len() && names.windows(2).all(|pair| pair[0] < pair[1]) {
            return self.clone();
        }
        names.sort_unstable();
        names.dedup();
        let mut list = Names {
            text: String::with_capacity(names.iter().map(|name| name.len()).sum()),
            ends: Vec::with_capacity(names.len()),
        };
        for name in names {
            list.push(name);
        }
        Self(Arc::new(list))
    }
}

impl Names {
    fn push(&mut self, name: &str) {
        self.text.push_str(name);
        self.ends.push(self.text.len());
    }
}

/// Builds a [`DomainNames`] a name at a time (a store read hands them over one by one).
#[derive(Debug, Default)]
pub struct DomainNamesBuilder(Names);

impl DomainNamesBuilder {
    pub fn push(&mut self, name: &DomainName) {
        self.0.push(name.as_str());
    }

    pub fn build(mut self) -> DomainNames {
        self.0.text.shrink_to_fit();
        self.0.ends.shrink_to_fit();
        DomainNames(Arc::new(self.0))
    }
}

impl FromIterator<DomainName> for DomainNames {
    fn from_iter<I: IntoIterator<Item = DomainName>>(names: I) -> Self {
        let mut list = DomainNamesBuilder::default();
        for name in names {
            list.push(&name);
        }
        list.build()
    }
}

impl From<Vec<DomainName>> for DomainNames {
    fn from(names: Vec<DomainName>) -> Self {
        names.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<DomainName> {
        names
            .iter()
            .map(|name| DomainName::parse(name).expect("valid"))
            .collect()
    }

    #[test]
    fn names_read_back_as_given_and_clones_share_them() {
        let list = DomainNames::from(names(&["b.example", "a.example", "xn--bcher-kva.example"]));
        assert_eq!(list.len(), 3);
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            ["b.example", "a.example", "xn--bcher-kva.example"]
        );
        assert_eq!(list.name(1), Some(names(&["a.example"]).remove(0)));
        assert_eq!(list.get(3), None);
        let clone = list.clone();
        assert!(Arc::ptr_eq(&list.0, &clone.0));
        assert!(DomainNames::default().is_empty());
    }

    #[test]
    fn a_sorted_list_is_searched_by_name() {
        let given = DomainNames::from(names(&[
            "c.example",
            "a.example",
            "c.example",
            "b.example",
            "d.example",
        ]));
        let list = given.sorted_unique(|name| name != "d.example");
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            ["a.example", "b.example", "c.example"]
        );
        for name in ["a.example", "b.example", "c.example"] {
            assert!(list.sorted_contains(name), "{name}");
        }
        for name in ["", "0.example", "bb.example", "d.example", "z.example"] {
            assert!(!list.sorted_contains(name), "{name}");
        }
        assert!(!DomainNames::default().sorted_contains("a.example"));
        let again = list.sorted_unique(|_| true);
        assert!(
            Arc::ptr_eq(&again.0, &list.0),
            "already sorted: the same list"
        );
    }
}
