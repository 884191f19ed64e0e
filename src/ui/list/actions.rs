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
        let title_of = move |item: &ItemId| {
            rows.get_value()
                .and_then(|rows| {
                    rows.with_untracked(|rows| {
                        rows.iter()
                            .find(|row| &row.id == item)
                            .map(|row| row.item.with_untracked(|i| i.title.clone()))
                    })
                })
                .unwrap_or_else(|| "this gift".to_string())
        };
        let latest = RwSignal::new(None);
        watch(
            move || a.add.input().get(),
            move || a.add.value().get(),
            latest,
            |input: &AddItem| ("add", input.title.clone()),
        );
        watch(
            move || a.edit.input().get(),
            move || a.edit.value().get(),
            latest,
            move |input: &EditItem| ("save", title_of(&input.item_id)),
        );
        watch(
            move || a.remove.input().get(),
            move || a.remove.value().get(),
            latest,
            move |input: &RemoveItem| ("remove", title_of(&input.item_id)),
        );
        watch(
            move || a.claim.input().get(),
            move || a.claim.value().get(),
            latest,
            move |input: &Claim| {
                let verb = match input.status {
                    ClaimStatus::Purchased => "mark as bought",
                    ClaimStatus::Reserved => "reserve",
                };
                (verb, title_of(&input.item_id))
            },
        );
        watch(
            move || a.release.input().get(),
            move || a.release.value().get(),
            latest,
            move |input: &Release| ("release", title_of(&input.item_id)),
        );
        error_text(move || latest.get())
    }
}

/// Makes each answer of one action the page's `latest` outcome. A failure
/// that is not the app's own answer is told in words: what was tried on
/// which gift (`describe`, from the input the action was last dispatched
/// with, kept here because an action forgets its input once answered).
fn watch<T: Clone + Send + Sync + 'static>(
    input: impl Fn() -> Option<T> + 'static,
    answered: impl Fn() -> Option<Result<(), AppError>> + 'static,
    latest: RwSignal<Option<Result<(), AppError>>>,
    describe: impl Fn(&T) -> (&'static str, String) + 'static,
) {
    let last = StoredValue::new(None::<T>);
    Effect::new(move |_| {
        if let Some(input) = input() {
            last.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        let Some(result) = answered() else {
            return;
        };
        latest.set(Some(result.map_err(|err| {
            let tried = last.with_value(|input| input.as_ref().map(&describe));
            match (err.failure, tried) {
                (Some(_), Some((verb, title))) => AppError {
                    message: failure_sentence(verb, &title, &err.message),
                    ..err
                },
                _ => err,
            }
        })));
    });
}

/// "Could not add “Teapot”: the server answered 502. Try again."
fn failure_sentence(verb: &str, title: &str, reason: &str) -> String {
    if title.is_empty() {
        format!("Could not {verb} the gift: {reason}")
    } else {
        format!("Could not {verb} “{title}”: {reason}")
    }
}
