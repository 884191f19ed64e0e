//! The list page's actions, shared by its rows, and the one message that
//! says how the last of them went.

use leptos::prelude::*;

use super::{
    live::Row,
    server::{AddItem, ChipIn, EditItem, ItemAction, ItemOp},
};
use crate::{
    i18n::{tu_string, use_i18n, Locale},
    model::{error::AppError, ClaimStatus, ItemId},
    ui::{
        form::error_text,
        lang::{fill, translate_error},
    },
};

/// The actions of the list page, shared by its rows.
#[derive(Clone, Copy)]
pub(super) struct Actions {
    pub(super) add: ServerAction<AddItem>,
    pub(super) edit: ServerAction<EditItem>,
    /// The rows' claim, release and remove buttons (see `ItemAction`).
    pub(super) item: ServerAction<ItemAction>,
    pub(super) chip: ServerAction<ChipIn>,
    /// The inputs on their way, which every row reads: taken once here,
    /// as each call of an action's `input()` makes a new signal (on a
    /// 200-gift page that was some 1,500 of them per render).
    pub(super) adding: MappedSignal<Option<AddItem>>,
    pub(super) editing: MappedSignal<Option<EditItem>>,
    pub(super) acting: MappedSignal<Option<ItemAction>>,
    pub(super) chipping: MappedSignal<Option<ChipIn>>,
}

/// What a row's action on its way does to the row, read from its input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RowChange {
    Claim(ClaimStatus),
    Release,
    Remove,
}

impl RowChange {
    /// The change an `item_action` input makes, and to which gift; `None`
    /// for one the server refuses anyway.
    pub(super) fn of(input: &ItemAction) -> Option<(&ItemId, RowChange)> {
        let (op, item) = input.op()?;
        let change = match op {
            ItemOp::Reserve => RowChange::Claim(ClaimStatus::Reserved),
            ItemOp::Buy => RowChange::Claim(ClaimStatus::Purchased),
            ItemOp::Claim => RowChange::Claim(input.status?),
            ItemOp::Release => RowChange::Release,
            ItemOp::Remove => RowChange::Remove,
        };
        Some((item, change))
    }

    fn verb(self) -> Verb {
        match self {
            RowChange::Claim(ClaimStatus::Reserved) => Verb::Reserve,
            RowChange::Claim(ClaimStatus::Purchased) => Verb::Buy,
            RowChange::Release => Verb::Release,
            RowChange::Remove => Verb::Remove,
        }
    }
}

impl Actions {
    /// The page's actions, none dispatched yet.
    pub(super) fn new() -> Actions {
        let (add, edit, item, chip) = (
            ServerAction::new(),
            ServerAction::new(),
            ServerAction::new(),
            ServerAction::new(),
        );
        Actions {
            add,
            edit,
            item,
            chip,
            adding: add.input(),
            editing: edit.input(),
            acting: item.input(),
            chipping: chip.input(),
        }
    }

    /// The change on its way to `item`'s row, if any.
    pub(super) fn pending_on(&self, item: &ItemId) -> Option<RowChange> {
        self.acting.with(|input| {
            input
                .as_ref()
                .and_then(RowChange::of)
                .filter(|(on, _)| *on == item)
                .map(|(_, change)| change)
        })
    }
}

impl Actions {
    pub(super) fn version(&self) -> usize {
        self.add.version().get()
            + self.edit.version().get()
            + self.item.version().get()
            + self.chip.version().get()
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
        let i18n = use_i18n();
        let title_of = move |item: &ItemId| {
            rows.get_value()
                .and_then(|rows| {
                    rows.with_untracked(|rows| {
                        rows.iter()
                            .find(|row| &row.id == item)
                            .map(|row| row.item.with_untracked(|i| i.title.clone()))
                    })
                })
                .unwrap_or_else(|| tu_string!(i18n, this_gift).to_string())
        };
        let latest = RwSignal::new(None);
        // Each action is described when dispatched, while its input is at
        // hand (an action forgets its input once answered).
        watch(
            Box::new(move || {
                a.adding
                    .with(|i| i.as_ref().map(|i| (Verb::Add, i.title.clone())))
            }),
            Box::new(move || a.add.value().get()),
            latest,
            i18n,
        );
        watch(
            Box::new(move || {
                a.editing
                    .with(|i| i.as_ref().map(|i| (Verb::Save, title_of(&i.item_id))))
            }),
            Box::new(move || a.edit.value().get()),
            latest,
            i18n,
        );
        watch(
            Box::new(move || {
                a.acting.with(|i| {
                    i.as_ref()
                        .and_then(RowChange::of)
                        .map(|(item, change)| (change.verb(), title_of(item)))
                })
            }),
            Box::new(move || a.item.value().get()),
            latest,
            i18n,
        );
        watch(
            Box::new(move || {
                a.chipping
                    .with(|i| i.as_ref().map(|i| (Verb::ChipIn, title_of(&i.item_id))))
            }),
            Box::new(move || a.chip.value().get()),
            latest,
            i18n,
        );
        error_text(move || latest.get())
    }
}

/// What a person tried to do to a gift.
#[derive(Clone, Copy)]
enum Verb {
    Add,
    Save,
    Remove,
    Reserve,
    Buy,
    Release,
    ChipIn,
}

/// What was tried, on which gift: (Add, "Teapot").
type Tried = (Verb, String);

/// Makes each answer of one action the page's `latest` outcome. A failure
/// that is not the app's own answer is told in words: what was tried on
/// which gift (`tried`, read when the action is dispatched, kept here).
///
/// Not generic on purpose: each instance of a generic function with its
/// own effects costs the browser's bundle a few KB, and there are four.
fn watch(
    tried: Box<dyn Fn() -> Option<Tried>>,
    answered: Box<dyn Fn() -> Option<Result<(), AppError>>>,
    latest: RwSignal<Option<Result<(), AppError>>>,
    i18n: leptos_i18n::I18nContext<Locale>,
) {
    let last = StoredValue::new(None::<Tried>);
    Effect::new(move |_| {
        if let Some(now) = tried() {
            last.set_value(Some(now));
        }
    });
    Effect::new(move |_| {
        let Some(result) = answered() else {
            return;
        };
        latest.set(Some(result.map_err(|err| {
            match (err.failure, last.get_value()) {
                (Some(_), Some((verb, title))) => AppError {
                    message: failure_sentence(i18n, verb, title, &err.message),
                    ..err
                },
                _ => err,
            }
        })));
    });
}

/// "Could not add “Teapot”: the server answered 502. Try again.", in the
/// page's language.
fn failure_sentence(
    i18n: leptos_i18n::I18nContext<Locale>,
    verb: Verb,
    title: String,
    reason: &str,
) -> String {
    let title = if title.is_empty() {
        tu_string!(i18n, this_gift).to_string()
    } else {
        title
    };
    let reason = translate_error(reason);
    match verb {
        Verb::Add => fill(
            tu_string!(i18n, fail_add),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::Save => fill(
            tu_string!(i18n, fail_save),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::Remove => fill(
            tu_string!(i18n, fail_remove),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::Reserve => fill(
            tu_string!(i18n, fail_reserve),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::Buy => fill(
            tu_string!(i18n, fail_buy),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::Release => fill(
            tu_string!(i18n, fail_release),
            &[("title", &title), ("reason", &reason)],
        ),
        Verb::ChipIn => fill(
            tu_string!(i18n, fail_chip),
            &[("title", &title), ("reason", &reason)],
        ),
    }
}
