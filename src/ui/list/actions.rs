//! The list page's actions, shared by its rows, and the one message that
//! says how the last of them went.

use leptos::prelude::*;

use super::{
    live::Row,
    server::{AddItem, Claim, EditItem, Release, RemoveItem},
};
use crate::{
    model::{error::AppError, ClaimStatus, ItemId},
    ui::form::error_text,
};

/// The actions of the list page, shared by its rows.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    pub(super) add: ServerAction<AddItem>,
    pub(super) edit: ServerAction<EditItem>,
    pub(super) remove: ServerAction<RemoveItem>,
    pub(super) claim: ServerAction<Claim>,
    pub(super) release: ServerAction<Release>,
}

impl Actions {
    pub(super) fn version(&self) -> usize {
        self.add.version().get()
            + self.edit.version().get()
            + self.remove.version().get()
            + self.claim.version().get()
            + self.release.version().get()
    }

    /// The outcome of whichever of them was answered last (a success
    /// clears the message), or a refusal brought back in `?error=`. A
    /// refusal by the app says why in its own words; a request that got no
    /// answer of the app's own (no connection, a proxy's error page) is told
    /// as what failed, on which gift, and what to do.
    pub(super) fn message(
        &self,
        rows: StoredValue<Option<RwSignal<Vec<Row>>>>,
    ) -> Signal<Option<String>> {
        let a = *self;
        let last = LastInputs::track(a);
        let title_of = move |item: Option<ItemId>| {
            let Some(item) = item else {
                return String::new();
            };
            rows.get_value()
                .and_then(|rows| {
                    rows.with_untracked(|rows| {
                        rows.iter()
                            .find(|row| row.id == item)
                            .map(|row| row.item.with_untracked(|i| i.title.clone()))
                    })
                })
                .unwrap_or_else(|| "this gift".to_string())
        };
        let latest = RwSignal::new(None::<Result<(), AppError>>);
        // Each action, once answered, becomes the latest outcome; a failure
        // that is not the app's own answer is told in words.
        fn watch(
            answered: impl Fn() -> Option<Result<(), AppError>> + 'static,
            latest: RwSignal<Option<Result<(), AppError>>>,
            what: impl Fn() -> (&'static str, String) + 'static,
        ) {
            Effect::new(move |_| {
                let Some(result) = answered() else {
                    return;
                };
                latest.set(Some(result.map_err(|err| match err.failure {
                    Some(_) => {
                        let (verb, title) = what();
                        AppError {
                            message: failure_sentence(verb, &title, &err.message),
                            ..err
                        }
                    }
                    None => err,
                })));
            });
        }
        watch(
            move || a.add.value().get(),
            latest,
            move || {
                let title = last.add.with_value(|i| i.as_ref().map(|i| i.title.clone()));
                ("add", title.unwrap_or_default())
            },
        );
        watch(
            move || a.edit.value().get(),
            latest,
            move || {
                let id = last
                    .edit
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("save", title_of(id))
            },
        );
        watch(
            move || a.remove.value().get(),
            latest,
            move || {
                let id = last
                    .remove
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("remove", title_of(id))
            },
        );
        watch(
            move || a.claim.value().get(),
            latest,
            move || {
                let input = last.claim.with_value(|i| i.clone());
                let verb = match input.as_ref().map(|i| i.status) {
                    Some(ClaimStatus::Purchased) => "mark as bought",
                    _ => "reserve",
                };
                (verb, title_of(input.map(|i| i.item_id)))
            },
        );
        watch(
            move || a.release.value().get(),
            latest,
            move || {
                let id = last
                    .release
                    .with_value(|i| i.as_ref().map(|i| i.item_id.clone()));
                ("release", title_of(id))
            },
        );
        error_text(move || latest.get())
    }
}

/// "Could not add “Teapot”: the server answered 502. Try again."
fn failure_sentence(verb: &str, title: &str, reason: &str) -> String {
    if title.is_empty() {
        format!("Could not {verb} the gift: {reason}")
    } else {
        format!("Could not {verb} “{title}”: {reason}")
    }
}

/// The input each action was last dispatched with: an action forgets its
/// input once it is answered, but a failure's message names the gift.
#[derive(Clone, Copy)]
struct LastInputs {
    add: StoredValue<Option<AddItem>>,
    edit: StoredValue<Option<EditItem>>,
    remove: StoredValue<Option<RemoveItem>>,
    claim: StoredValue<Option<Claim>>,
    release: StoredValue<Option<Release>>,
}

impl LastInputs {
    fn track(a: Actions) -> LastInputs {
        fn keep<T: Clone + Send + Sync + 'static>(
            input: impl Fn() -> Option<T> + 'static,
        ) -> StoredValue<Option<T>> {
            let last = StoredValue::new(None);
            Effect::new(move |_| {
                if let Some(input) = input() {
                    last.set_value(Some(input));
                }
            });
            last
        }
        LastInputs {
            add: keep(move || a.add.input().get()),
            edit: keep(move || a.edit.input().get()),
            remove: keep(move || a.remove.input().get()),
            claim: keep(move || a.claim.input().get()),
            release: keep(move || a.release.input().get()),
        }
    }
}
