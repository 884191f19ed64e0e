//! The list as the page shows it, kept current by the list's topic.

use leptos::prelude::*;

use crate::{
    live::{
        client::LiveData,
        protocol::{EventFrame, EventName},
    },
    model::{GiftList, Item, ItemId, ListDetail},
};

/// One item on the page, changed in place by live events.
#[derive(Clone)]
pub(super) struct Row {
    pub(super) id: ItemId,
    pub(super) item: RwSignal<Item>,
}

/// The list as the page shows it, kept current by the list's live topic:
/// each event is applied in `seq` order; a gap or a `resync` reloads.
#[derive(Clone, Copy)]
pub(super) struct LiveList {
    pub(super) list: RwSignal<GiftList>,
    pub(super) rows: RwSignal<Vec<Row>>,
    pub(super) seq: StoredValue<i64>,
    pub(super) removed: RwSignal<bool>,
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
    pub(super) fn new(detail: &ListDetail) -> LiveList {
        LiveList {
            list: RwSignal::new(detail.list.clone()),
            rows: RwSignal::new(detail.items.iter().cloned().map(Row::new).collect()),
            seq: StoredValue::new(detail.seq),
            removed: RwSignal::new(false),
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
                None => self.rows.update(|rows| rows.push(Row::new(item))),
            }
            return true;
        }
        match event.name() {
            Some(EventName::Deleted) => self.removed.set(true),
            _ => match serde_json::from_value::<GiftList>(payload) {
                Ok(list) => self.list.set(list),
                Err(_) => return false,
            },
        }
        true
    }
}

impl Row {
    pub(super) fn new(item: Item) -> Row {
        Row {
            id: item.id.clone(),
            item: RwSignal::new(item),
        }
    }
}
