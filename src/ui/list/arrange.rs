//! How the list page orders and filters its gifts. The choice lives in the
//! URL (`?sort=price&available=1`), so a reload or a shared link keeps it
//! and a plain GET form sets it without the wasm.

use std::cmp::Ordering;

use crate::model::Item;

/// The orders a person can pick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Sort {
    /// Most wanted first (the server's order: then oldest).
    #[default]
    Priority,
    /// Cheapest first; gifts without a price last.
    Price,
    /// By title, A to Z.
    Title,
    /// The gifts added last first.
    Newest,
}

impl Sort {
    pub(super) const ALL: [Sort; 4] = [Sort::Priority, Sort::Price, Sort::Newest, Sort::Title];

    /// The order named in the query; anything else is the default.
    pub(super) fn from_query(value: Option<&str>) -> Sort {
        Sort::ALL
            .into_iter()
            .find(|sort| Some(sort.param()) == value)
            .unwrap_or_default()
    }

    /// Its value in the URL.
    pub(super) fn param(self) -> &'static str {
        match self {
            Sort::Priority => "priority",
            Sort::Price => "price",
            Sort::Title => "title",
            Sort::Newest => "newest",
        }
    }

    /// Which of two gifts, each with its `added` rank, comes first; ties
    /// fall back to the priority. The page sorts stably, so among equals
    /// the server's order (older first) and then arrival order hold, and
    /// nothing flickers between renders.
    pub(super) fn compare(
        self,
        (a, a_added): (&Item, usize),
        (b, b_added): (&Item, usize),
    ) -> Ordering {
        let default = || a.priority.cmp(&b.priority);
        match self {
            Sort::Newest => b_added.cmp(&a_added),
            Sort::Priority => default(),
            Sort::Price => (a.price_cents.is_none(), a.price_cents)
                .cmp(&(b.price_cents.is_none(), b.price_cents))
                .then_with(default),
            Sort::Title => a
                .title
                .to_lowercase()
                .cmp(&b.title.to_lowercase())
                .then_with(default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str, price: Option<i64>, priority: i64) -> Item {
        Item {
            price_cents: price,
            priority,
            ..Item::sample(id, title)
        }
    }

    fn sorted(sort: Sort, items: &[Item]) -> Vec<String> {
        // Added in the order given.
        let mut items: Vec<(usize, Item)> = items.iter().cloned().enumerate().collect();
        items.sort_by(|(x, a), (y, b)| sort.compare((a, *x), (b, *y)));
        items.into_iter().map(|(_, i)| i.id.0).collect()
    }

    #[test]
    fn each_order_and_its_ties() {
        let items = [
            item("i_a", "kite", Some(1200), 3),
            item("i_b", "Bike", None, 1),
            item("i_c", "apple", Some(300), 3),
            item("i_d", "Drum", Some(300), 2),
        ];
        assert_eq!(sorted(Sort::Priority, &items), ["i_b", "i_d", "i_a", "i_c"]);
        assert_eq!(sorted(Sort::Price, &items), ["i_d", "i_c", "i_a", "i_b"]);
        assert_eq!(sorted(Sort::Title, &items), ["i_c", "i_b", "i_d", "i_a"]);
        assert_eq!(sorted(Sort::Newest, &items), ["i_d", "i_c", "i_b", "i_a"]);
    }

    #[test]
    fn unknown_orders_are_the_default() {
        assert_eq!(Sort::from_query(Some("price")), Sort::Price);
        assert_eq!(Sort::from_query(Some("cheapest")), Sort::Priority);
        assert_eq!(Sort::from_query(None), Sort::Priority);
    }
}
