//! The list as the page shows it, kept current by the list's topic.

use leptos::prelude::*;

use crate::{
    live::{
        client::LiveData,
        protocol::{EventFrame, EventName},
    },
    model::{GiftList, Item, ItemId},
};

/// One item on the page, changed in place by live events.
#[derive(Clone)]
pub(super) struct Row {
    pub(super) id: ItemId,
    pub(super) item: RwSignal<Item>,
    /// When it was added, as a rank among the list's items (older is
    /// smaller): the page's "newest first" order.
    pub(super) added: usize,
}

/// The list as the page shows it, kept current by the list's live topic:
/// each event is applied in `seq` order; a gap or a `resync` reloads.
#[derive(Clone, Copy)]
pub(super) struct LiveList {
    pub(super) list: RwSignal<GiftList>,
    pub(super) rows: RwSignal<Vec<Row>>,
    pub(super) seq: StoredValue<i64>,
    pub(super) removed: RwSignal<bool>,
    /// The `added` rank the next new row gets.
    next_added: StoredValue<usize>,
}

impl LiveData for LiveList {
    fn seq(&self) -> StoredValue<i64> {
        self.seq
    }

    fn apply_next(&self, event: &EventFrame) -> bool {
        self.apply(event)
    }
}

impl LiveList {
    /// The list as loaded, its `items` oldest first.
    pub(super) fn new(list: GiftList, items: Vec<Item>, seq: i64) -> LiveList {
        let count = items.len();
        let rows = items
            .into_iter()
            .enumerate()
            .map(|(added, item)| Row::new(item, added))
            .collect();
        LiveList {
            list: RwSignal::new(list),
            rows: RwSignal::new(rows),
            seq: StoredValue::new(seq),
            removed: RwSignal::new(false),
            next_added: StoredValue::new(count),
        }
    }

    /// Applies the next event; false when it cannot be read: reload.
    fn apply(&self, event: &EventFrame) -> bool {
        let payload = event.data.payload.clone();
        if event.data.entity_id.starts_with(ItemId::PREFIX) {
            if event.name() == Some(EventName::Deleted) {
                let id = event.data.entity_id.as_str();
                self.rows
                    .update(|rows| rows.retain(|row| row.id.as_str() != id));
                return true;
            }
            let Ok(item) = serde_json::from_value::<Item>(payload) else {
                return false;
            };
            let existing = self
                .rows
                .with_untracked(|rows| rows.iter().find(|row| row.id == item.id).cloned());
            match existing {
                Some(row) => row.item.set(item),
                None => {
                    let added = self.next_added.get_value();
                    self.next_added.set_value(added + 1);
                    self.rows.update(|rows| rows.push(Row::new(item, added)));
                }
            }
            return true;
        }
        match event.name() {
            Some(EventName::Deleted) => self.removed.set(true),
            // The thank-you view opened: the items now come with who gave
            // them, and the page loads them again.
            Some(EventName::Revealed) => return false,
            _ => match serde_json::from_value::<GiftList>(payload) {
                // Someone else is the recipient now: who reads which view
                // changed, so the page loads again.
                Ok(list)
                    if self.list.with_untracked(|known| {
                        known.recipient_user_id != list.recipient_user_id
                    }) =>
                {
                    return false
                }
                Ok(list) => self.list.set(list),
                Err(_) => return false,
            },
        }
        true
    }
}

impl Row {
    pub(super) fn new(item: Item, added: usize) -> Row {
        Row {
            id: item.id.clone(),
            item: RwSignal::new(item),
            added,
        }
    }
}
