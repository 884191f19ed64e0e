//! The list page's server functions: loading the page, and the five
//! actions on its gifts, each a thin call of one `service` operation.

// A server function takes its form's fields as arguments, one each, and
// `#[server]` does not pass an `allow` on to the code it generates.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::model::ListDetail;
use crate::model::{
    error::AppError, validate::DEFAULT_CURRENCY, ClaimPart, ClaimStatus, GiftList, GroupGift, Item,
    ItemId, ListId, Member, PictureId, UserId,
};

/// Everything the list page shows.
///
/// It travels twice in the page, as markup and as the hydration data the
/// browser's copy starts from, so it is kept small: the items as
/// [`PageItem`]s, oldest first (their order is the page's "newest first"
/// order reversed, so no list of ids by age comes with them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPageData {
    pub list: GiftList,
    pub items: Vec<PageItem>,
    /// The list's topic's `seq` when it was read (see the live channel).
    pub seq: i64,
    pub members: Vec<Member>,
    pub me: UserId,
    /// Whether the viewer may rename and delete the list (who made it, and
    /// the family's admins).
    pub may_manage: bool,
    /// Today (UTC, `YYYY-MM-DD`), for "past": the server's day, so the
    /// page reads the same before and after the wasm loads.
    pub today: String,
}

/// An item as the list page carries it: the wire [`Item`] without what the
/// page knows already (its list; `claim`, the first of `claims`) or what
/// most gifts have, under one-letter names. Measured on a page of 200
/// gifts, the hydration data went from 100 KiB to 49 KiB (most of what is
/// left is the gifts' own words, which hydration needs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageItem {
    #[serde(rename = "i")]
    id: ItemId,
    #[serde(rename = "t")]
    title: String,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    price_cents: Option<i64>,
    #[serde(rename = "c", default = "euro", skip_serializing_if = "is_euro")]
    currency: String,
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    #[serde(rename = "r")]
    priority: i64,
    #[serde(rename = "v", default = "first", skip_serializing_if = "is_first")]
    version: i64,
    #[serde(rename = "b")]
    created_by: UserId,
    /// Left out for one, the usual; `null` is "no limit".
    #[serde(rename = "q", default = "one", skip_serializing_if = "is_one")]
    quantity: Option<i64>,
    #[serde(rename = "h", default, skip_serializing_if = "Vec::is_empty")]
    claims: Vec<ClaimPart>,
    #[serde(rename = "g", default, skip_serializing_if = "Option::is_none")]
    group: Option<GroupGift>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    picture: Option<PictureId>,
}

// What most gifts have, left out of the page's items (see `PageItem`).
fn euro() -> String {
    DEFAULT_CURRENCY.to_owned()
}
fn is_euro(currency: &str) -> bool {
    currency == DEFAULT_CURRENCY
}
fn first() -> i64 {
    1
}
fn is_first(version: &i64) -> bool {
    *version == 1
}
fn one() -> Option<i64> {
    Some(1)
}
fn is_one(quantity: &Option<i64>) -> bool {
    *quantity == Some(1)
}

impl PageItem {
    /// The page's form of `item` (as the viewer may read it).
    pub fn of(item: Item) -> PageItem {
        let Item {
            id,
            list_id: _,
            title,
            url,
            price_cents,
            currency,
            notes,
            priority,
            version,
            created_by,
            quantity,
            claim: _,
            claims,
            group,
            picture,
        } = item;
        PageItem {
            id,
            title,
            url,
            price_cents,
            currency,
            notes,
            priority,
            version,
            created_by,
            quantity,
            claims,
            group,
            picture,
        }
    }

    /// The wire item again, on list `list_id`.
    pub fn into_item(self, list_id: &ListId) -> Item {
        let PageItem {
            id,
            title,
            url,
            price_cents,
            currency,
            notes,
            priority,
            version,
            created_by,
            quantity,
            claims,
            group,
            picture,
        } = self;
        Item {
            id,
            list_id: list_id.clone(),
            title,
            url,
            price_cents,
            currency,
            notes,
            priority,
            version,
            created_by,
            quantity,
            claim: None,
            claims: Vec::new(),
            group,
            picture,
        }
        .with_claims(claims)
    }
}

#[server(prefix = "/api/fn", endpoint = "get_list", client = crate::ui::fetch::PageClient)]
pub async fn get_list(id: ListId) -> Result<ListPageData, AppError> {
    let service = crate::ui::server::state()?.service;
    let me = crate::ui::server::user_id().await?;
    let ListDetail { list, items, seq } = service.list_detail(&me, &id).await?;
    let oldest_first = service.item_ids_by_age(&me, &id).await?;
    let may_manage = service.may_manage_list(&me, &id).await?;
    let members = service.family_detail(&me, &list.family_id).await?.members;
    Ok(ListPageData {
        list,
        items: by_age(items, &oldest_first),
        seq,
        members,
        me,
        may_manage,
        today: crate::service::lists::today(),
    })
}

/// `items` in the order `oldest_first` names them; one added between the
/// two reads (not named) goes last, as the newest.
#[cfg(feature = "ssr")]
fn by_age(items: Vec<Item>, oldest_first: &[ItemId]) -> Vec<PageItem> {
    let rank: std::collections::HashMap<&ItemId, usize> = oldest_first
        .iter()
        .enumerate()
        .map(|(rank, id)| (id, rank))
        .collect();
    let mut items: Vec<(usize, Item)> = items
        .into_iter()
        .map(|item| (rank.get(&item.id).copied().unwrap_or(usize::MAX), item))
        .collect();
    items.sort_by_key(|(rank, _)| *rank);
    items
        .into_iter()
        .map(|(_, item)| PageItem::of(item))
        .collect()
}

/// Sets the list's event date (`YYYY-MM-DD`), or clears it (empty).
#[server(prefix = "/api/fn", endpoint = "set_event_date", client = crate::ui::fetch::PageClient)]
pub async fn set_event_date(list_id: ListId, event_date: String) -> Result<(), AppError> {
    let date = event_date.trim().to_owned();
    settings(
        list_id,
        crate::model::input::ListPatch {
            event_date: Some((!date.is_empty()).then_some(date)),
            ..Default::default()
        },
    )
    .await
}

/// Makes the list for a member (`recipient_user_id`) or, when none is
/// picked, for the name given.
#[server(prefix = "/api/fn", endpoint = "set_recipient", client = crate::ui::fetch::PageClient)]
pub async fn set_recipient(
    list_id: ListId,
    recipient_user_id: String,
    recipient_name: String,
) -> Result<(), AppError> {
    let member = (!recipient_user_id.is_empty()).then_some(UserId(recipient_user_id));
    let name = recipient_name.trim().to_owned();
    settings(
        list_id,
        crate::model::input::ListPatch {
            recipient_name: (member.is_none()).then_some(name),
            recipient_user_id: member,
            ..Default::default()
        },
    )
    .await
}

/// Archives the list, or restores it.
#[server(prefix = "/api/fn", endpoint = "set_archived", client = crate::ui::fetch::PageClient)]
pub async fn set_archived(list_id: ListId, archived: bool) -> Result<(), AppError> {
    settings(
        list_id,
        crate::model::input::ListPatch {
            archived: Some(archived),
            ..Default::default()
        },
    )
    .await
}

/// Chooses whether the recipient sees what was given after the event
/// (`reveal`: a checkbox, present when ticked).
#[server(prefix = "/api/fn", endpoint = "set_reveal", client = crate::ui::fetch::PageClient)]
pub async fn set_reveal(list_id: ListId, reveal: Option<String>) -> Result<(), AppError> {
    settings(
        list_id,
        crate::model::input::ListPatch {
            reveal_after_event: Some(reveal.is_some()),
            ..Default::default()
        },
    )
    .await
}

#[cfg(feature = "ssr")]
async fn settings(list_id: ListId, patch: crate::model::input::ListPatch) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        service.update_list(&actor, &list_id, patch).await
    })
    .await;
    crate::ui::server::answer(result, &back).await.map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "rename_list", client = crate::ui::fetch::PageClient)]
pub async fn rename_list(list_id: ListId, title: String) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        let input = crate::model::input::ListPatch {
            title: Some(title),
            ..Default::default()
        };
        service.update_list(&actor, &list_id, input).await
    })
    .await;
    crate::ui::server::answer(result, &back).await.map(|_| ())
}

/// Deletes the list: only with the box ticked that says so. Sends the
/// browser to the family's page.
#[server(prefix = "/api/fn", endpoint = "delete_list", client = crate::ui::fetch::PageClient)]
pub async fn delete_list(
    list_id: ListId,
    family_id: crate::model::FamilyId,
    // A checkbox: present ("on") when ticked.
    confirm: Option<String>,
) -> Result<(), AppError> {
    let result = crate::ui::server::act(|service, actor| async move {
        if confirm.is_none() {
            return Err(AppError::bad_request(
                "tick the box to confirm that the list and its gifts go",
            ));
        }
        service.delete_list(&actor, &list_id).await
    })
    .await;
    crate::ui::server::answer(result, &format!("/families/{family_id}")).await
}

/// "12.50" (or "12,50") to 1250 cents; empty is no price.
pub fn parse_price(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::bad_request("price must be an amount like 12.50");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction))
        .map(Some)
        .ok_or_else(bad)
}

#[cfg(feature = "ssr")]
fn priority_from(text: &str) -> Result<i64, AppError> {
    text.trim()
        .parse()
        .map_err(|_| AppError::bad_request("priority must be a number from 1 to 5"))
}

/// The quantity field: empty is no limit.
#[cfg(feature = "ssr")]
fn quantity_from(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        AppError::bad_request("quantity must be a number from 1 to 999, or empty for no limit")
    })
}

#[cfg(feature = "ssr")]
fn optional(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// What the shop page at `url` says, for the add and edit forms to fill
/// in (with the wasm).
#[server(prefix = "/api/fn", endpoint = "read_link", client = crate::ui::fetch::PageClient)]
pub async fn read_link(url: String) -> Result<crate::model::preview::LinkPreview, AppError> {
    crate::ui::server::act(|service, actor| async move { service.preview_link(&actor, &url).await })
        .await
}

/// "Fill from link" without the wasm: the add form is posted here, the
/// page is read, and the browser goes back to the list with the form
/// filled in (what the page said replacing what was typed), or with what
/// was typed and why the page could not be read.
#[server(prefix = "/api/fn", endpoint = "fill_from_link", client = crate::ui::fetch::PageClient)]
pub async fn fill_from_link(
    list_id: ListId,
    title: String,
    url: String,
    price: String,
    currency: String,
    notes: String,
    priority: String,
    quantity: Option<String>,
    picture: Option<String>,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let mut form = add_form(
        &title,
        &url,
        &price,
        &currency,
        &notes,
        &priority,
        quantity.as_deref(),
        picture.as_deref(),
    );
    let read = crate::ui::server::act(|service, actor| async move {
        service.visible_list(&actor.user_id, &list_id).await?;
        service.preview_link(&actor, &url).await
    })
    .await;
    let preview = match read {
        Ok(preview) => preview,
        // A link that is not one: back to the form as typed.
        Err(err) => {
            return crate::ui::server::answer_keeping(Err(err), &back, &fields(&form)).await
        }
    };
    // What the page said replaces what was typed.
    let said = [
        ("title", preview.title),
        ("url", Some(preview.url)),
        (
            "price",
            preview.price_cents.map(crate::ui::money::cents_text),
        ),
        ("currency", preview.currency),
        ("picture", preview.picture.map(|p| p.0)),
    ];
    for (name, value) in said {
        if let (Some(field), Some(value)) = (form.iter_mut().find(|(n, _)| *n == name), value) {
            field.1 = value;
        }
    }
    let mut query = vec![("link", preview.problem.map_or("read", |p| p.code()))];
    query.extend(
        fields(&form)
            .into_iter()
            .filter(|(_, value)| !value.is_empty()),
    );
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    leptos_axum::redirect(&format!("{back}?{query}#add-a-gift"));
    Ok(())
}

/// The add form's fields as typed, named, for sending the form back to
/// the page without the wasm.
#[cfg(feature = "ssr")]
fn add_form(
    title: &str,
    url: &str,
    price: &str,
    currency: &str,
    notes: &str,
    priority: &str,
    quantity: Option<&str>,
    picture: Option<&str>,
) -> [(&'static str, String); 8] {
    [
        ("title", title.to_owned()),
        ("url", url.to_owned()),
        ("price", price.to_owned()),
        ("currency", currency.to_owned()),
        ("notes", notes.to_owned()),
        ("priority", priority.to_owned()),
        // Absent (a page from before quantities): one.
        ("quantity", quantity.unwrap_or("1").to_owned()),
        ("picture", picture.unwrap_or_default().to_owned()),
    ]
}

#[cfg(feature = "ssr")]
fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

#[server(prefix = "/api/fn", endpoint = "add_item", client = crate::ui::fetch::PageClient)]
pub async fn add_item(
    list_id: ListId,
    title: String,
    url: String,
    price: String,
    currency: String,
    notes: String,
    priority: String,
    // Absent (a page from before quantities): one.
    quantity: Option<String>,
    // A picture read from the link; absent or empty for none.
    picture: Option<String>,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    // Without the wasm, a refused gift comes back to the form as typed.
    let typed = add_form(
        &title,
        &url,
        &price,
        &currency,
        &notes,
        &priority,
        quantity.as_deref(),
        picture.as_deref(),
    );
    let result = crate::ui::server::act(|service, actor| async move {
        let input = crate::model::input::NewItem {
            title,
            url: optional(url),
            price_cents: parse_price(&price)?,
            currency: optional(currency),
            notes: optional(notes),
            priority: Some(priority_from(&priority)?),
            quantity: quantity.as_deref().map(quantity_from).transpose()?,
            picture: picture.and_then(optional).map(crate::model::PictureId),
        };
        service.add_item(&actor, &list_id, input).await
    })
    .await;
    crate::ui::server::answer_keeping(result, &back, &fields(&typed))
        .await
        .map(|_| ())
}

#[server(prefix = "/api/fn", endpoint = "edit_item", client = crate::ui::fetch::PageClient)]
pub async fn edit_item(
    list_id: ListId,
    item_id: ItemId,
    version: i64,
    title: String,
    url: String,
    price: String,
    currency: String,
    notes: String,
    priority: String,
    // Absent (a page from before quantities): unchanged.
    quantity: Option<String>,
    // A checkbox: present ("on") when ticked.
    release_excess: Option<String>,
    // A picture read from a pasted link; absent or empty: unchanged.
    picture: Option<String>,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        let patch = crate::model::input::ItemPatch {
            version,
            title: Some(Some(title)),
            url: Some(optional(url)),
            price_cents: Some(parse_price(&price)?),
            currency: Some(Some(currency)),
            notes: Some(optional(notes)),
            priority: Some(Some(priority_from(&priority)?)),
            quantity: quantity.as_deref().map(quantity_from).transpose()?,
            release_excess: release_excess.is_some(),
            picture: picture
                .and_then(optional)
                .map(|id| Some(crate::model::PictureId(id))),
        };
        service.update_item(&actor, &item_id, patch).await
    })
    .await;
    crate::ui::server::answer(result, &back).await.map(|_| ())
}

/// What [`item_action`] does to a gift.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ItemOp {
    /// Reserve one unit.
    Reserve,
    /// Mark one unit bought.
    Buy,
    /// Hold `units` as `status` (an item wanted more than once).
    Claim,
    Release,
    Remove,
}

/// The one `(op, item)` a form named, or `None` for none or several (the
/// item owned or borrowed).
fn chosen<T>(named: [(ItemOp, Option<T>); 5]) -> Option<(ItemOp, T)> {
    let mut given = named
        .into_iter()
        .filter_map(|(op, item)| item.map(|item| (op, item)));
    match (given.next(), given.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

impl ItemAction {
    /// What this action does, and to which gift.
    pub fn op(&self) -> Option<(ItemOp, &ItemId)> {
        chosen([
            (ItemOp::Reserve, self.reserve.as_ref()),
            (ItemOp::Buy, self.buy.as_ref()),
            (ItemOp::Claim, self.claim.as_ref()),
            (ItemOp::Release, self.release.as_ref()),
            (ItemOp::Remove, self.delete.as_ref()),
        ])
    }
}

/// A gift's reserve / buy / claim / release / remove buttons. The button
/// pressed names both the action and the gift (`reserve=i_…`), so the
/// rows' buttons share one form of the list's (`form="item-actions"`,
/// holding only `list_id`) instead of a form per row with the gift in
/// hidden fields: a list of 200 gifts is that much lighter, with or without
/// script. `claim` comes with `units` and `status`, from the form of an
/// item wanted more than once.
#[server(prefix = "/api/fn", endpoint = "item_action", client = crate::ui::fetch::PageClient)]
pub async fn item_action(
    list_id: ListId,
    reserve: Option<ItemId>,
    buy: Option<ItemId>,
    claim: Option<ItemId>,
    release: Option<ItemId>,
    // Removing is `delete`, not `remove`: a form's control named `remove`
    // hides the form element's own `remove()` method, which the page calls
    // when it leaves (a list page threw on every navigation away).
    delete: Option<ItemId>,
    status: Option<ClaimStatus>,
    // The units field of an item wanted more than once; else one.
    units: Option<String>,
) -> Result<(), AppError> {
    let back = format!("/lists/{list_id}");
    let chosen = chosen([
        (ItemOp::Reserve, reserve),
        (ItemOp::Buy, buy),
        (ItemOp::Claim, claim),
        (ItemOp::Release, release),
        (ItemOp::Remove, delete),
    ]);
    let result = crate::ui::server::act(|service, actor| async move {
        let claim = |status: ClaimStatus| -> Result<_, AppError> {
            let units = match units.as_deref().map(str::trim) {
                None | Some("") => 1,
                Some(text) => text
                    .parse()
                    .map_err(|_| AppError::bad_request("units must be a number from 1 to 999"))?,
            };
            Ok(crate::model::input::ClaimRequest { status, units })
        };
        match (chosen, status) {
            (Some((ItemOp::Reserve, item)), _) => service
                .claim_item(&actor, &item, claim(ClaimStatus::Reserved)?)
                .await
                .map(drop),
            (Some((ItemOp::Buy, item)), _) => service
                .claim_item(&actor, &item, claim(ClaimStatus::Purchased)?)
                .await
                .map(drop),
            (Some((ItemOp::Claim, item)), Some(status)) => service
                .claim_item(&actor, &item, claim(status)?)
                .await
                .map(drop),
            (Some((ItemOp::Release, item)), _) => {
                service.release_item(&actor, &item).await.map(drop)
            }
            (Some((ItemOp::Remove, item)), _) => service.delete_item(&actor, &item).await,
            _ => Err(AppError::bad_request(
                "name one gift with one of reserve, buy, claim (with a status), release or delete",
            )),
        }
    })
    .await;
    crate::ui::server::answer(result, &back).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page's compact items read back as the items they were, every
    /// left-out default included.
    #[test]
    fn page_items_round_trip() {
        let list = ListId("l_1".into());
        let plain = Item::sample("i_1", "Kite");
        let full = Item {
            id: ItemId("i_2".into()),
            url: Some("https://example.org/kite".into()),
            price_cents: Some(1999),
            currency: "GBP".into(),
            notes: Some("red".into()),
            version: 4,
            quantity: None,
            picture: Some(PictureId("p_1".into())),
            ..plain.clone()
        }
        .with_claims(vec![ClaimPart {
            status: ClaimStatus::Purchased,
            by: UserId("u_2".into()),
            units: 2,
            guest: None,
        }]);
        let wanted_twice = Item {
            id: ItemId("i_3".into()),
            quantity: Some(2),
            ..plain.clone()
        };
        let json_plain = serde_json::to_string(&PageItem::of(plain.clone())).unwrap();
        for item in [plain, full, wanted_twice] {
            let json = serde_json::to_string(&PageItem::of(item.clone())).unwrap();
            let back: PageItem = serde_json::from_str(&json).unwrap();
            assert_eq!(back.into_item(&list), item, "{json}");
        }
        assert_eq!(
            json_plain, r#"{"i":"i_1","t":"Kite","r":3,"b":"u_1"}"#,
            "the usual values are left out"
        );
    }

    #[test]
    fn prices_parse() {
        assert_eq!(parse_price("12.5").unwrap(), Some(1250));
        assert_eq!(parse_price("12,05").unwrap(), Some(1205));
        assert_eq!(parse_price(" 7 ").unwrap(), Some(700));
        assert_eq!(parse_price("").unwrap(), None);
        for bad in ["1.234", "-1", "abc", ".5", "1e3"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
    }
}

/// Every change to a group gift, as one server function (one action on
/// the page, which keeps the browser's bundle small): `op` is `group`
/// (make it one, or set the target: `amount`, empty for price × quantity),
/// `ungroup`, `organise`, `pledge` (`amount`, and `paid` when ticked) or
/// `withdraw`.
#[server(prefix = "/api/fn", endpoint = "chip_in", client = crate::ui::fetch::PageClient)]
pub async fn chip_in(
    list_id: ListId,
    item_id: ItemId,
    op: String,
    amount: Option<String>,
    paid: Option<String>,
) -> Result<(), AppError> {
    use crate::model::input::{GroupRequest, PledgeRequest};
    let back = format!("/lists/{list_id}");
    let result = crate::ui::server::act(|service, actor| async move {
        let amount = || {
            parse_price(amount.as_deref().unwrap_or(""))
                .map_err(|_| AppError::bad_request("the amount must be like 12.50"))
        };
        match op.as_str() {
            "group" => {
                let input = GroupRequest {
                    target_cents: amount()?,
                };
                service.mark_group_gift(&actor, &item_id, input).await
            }
            "ungroup" => service.unmark_group_gift(&actor, &item_id).await,
            "organise" => service.organise_group_gift(&actor, &item_id).await,
            "pledge" => {
                let input = PledgeRequest {
                    amount_cents: amount()?
                        .ok_or_else(|| AppError::bad_request("the amount must be like 12.50"))?,
                    currency: None,
                    paid: paid.is_some(),
                };
                service.pledge(&actor, &item_id, input).await
            }
            "withdraw" => service.withdraw_pledge(&actor, &item_id).await,
            _ => Err(AppError::bad_request(
                "op must be group, ungroup, organise, pledge or withdraw",
            )),
        }
    })
    .await;
    crate::ui::server::answer(result, &back).await.map(|_| ())
}
