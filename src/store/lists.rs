//! Gift lists, their items, and the claims on items.
//!
//! Items are read here with their claim, as members see them; hiding claims
//! from the recipient is the service's job (`service::surprise`).

use std::collections::HashMap;

use sqlx::{Any, AnyConnection, Executor};
use tracing::instrument;

use crate::model::{
    validate::ItemFields, ClaimPart, ClaimStatus, FamilyId, GiftList, GroupGift, Item, ItemId,
    ListId, PictureId, Pledge, UserId,
};

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    family_id: String,
    title: String,
    recipient_user_id: Option<String>,
    recipient_name: Option<String>,
    version: i64,
    created_by: String,
    event_date: Option<String>,
    archived_at: Option<String>,
    reveal_after_event: i64,
    revealed_at: Option<String>,
}

/// A list and who made it (who, besides admins, may rename or remove it).
#[derive(Clone, Debug)]
pub struct ListRecord {
    pub list: GiftList,
    pub created_by: UserId,
}

impl From<ListRow> for ListRecord {
    fn from(row: ListRow) -> Self {
        ListRecord {
            list: GiftList {
                id: ListId(row.id),
                family_id: FamilyId(row.family_id),
                title: row.title,
                recipient_user_id: row.recipient_user_id.map(UserId),
                recipient_name: row.recipient_name,
                version: row.version,
                event_date: row.event_date,
                archived: row.archived_at.is_some(),
                reveal_after_event: row.reveal_after_event != 0,
                revealed: row.revealed_at.is_some(),
            },
            created_by: UserId(row.created_by),
        }
    }
}

const LIST_COLUMNS: &str = "id, family_id, title, recipient_user_id, recipient_name, version, \
     created_by, event_date, archived_at, reveal_after_event, revealed_at";

#[instrument(skip_all, fields(list_id = %list.id))]
pub async fn insert_list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    list: &GiftList,
    created_by: &UserId,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into lists (id, family_id, title, recipient_user_id, recipient_name, created_by, version, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(list.id.as_str())
    .bind(list.family_id.as_str())
    .bind(&list.title)
    .bind(list.recipient_user_id.as_ref().map(UserId::as_str))
    .bind(list.recipient_name.as_deref())
    .bind(created_by.as_str())
    .bind(list.version)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

#[instrument(skip_all, fields(list_id = %id))]
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ListId,
) -> sqlx::Result<Option<ListRecord>> {
    let row: Option<ListRow> =
        sqlx::query_as(&format!("select {LIST_COLUMNS} from lists where id = $1"))
            .bind(id.as_str())
            .fetch_optional(db)
            .await?;
    Ok(row.map(ListRecord::from))
}

/// Who `list` is for, by name: the name given, or the member's.
pub async fn recipient_name<'e, E: Executor<'e, Database = Any>>(
    db: E,
    list: &GiftList,
) -> sqlx::Result<String> {
    match (&list.recipient_name, &list.recipient_user_id) {
        (Some(name), _) => Ok(name.clone()),
        (None, Some(user)) => {
            let name: Option<String> = sqlx::query_scalar("select name from users where id = $1")
                .bind(user.as_str())
                .fetch_optional(db)
                .await?;
            Ok(name.unwrap_or_default())
        }
        (None, None) => Ok(String::new()),
    }
}

/// The lists of a family, oldest first.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn lists_of_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
) -> sqlx::Result<Vec<GiftList>> {
    let rows: Vec<ListRow> = sqlx::query_as(&format!(
        "select {LIST_COLUMNS} from lists where family_id = $1 order by created_at, id"
    ))
    .bind(family.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ListRecord::from(row).list)
        .collect())
}

/// One list's counts, as [`counts_of_family`] reads them.
pub struct ListCountRow {
    pub list_id: ListId,
    /// Who must not be told `open`.
    pub recipient: Option<UserId>,
    pub gifts: i64,
    /// Items with units nobody has claimed yet.
    pub open: i64,
}

/// Each list of a family with its number of items and of items that
/// still have free units, and its recipient.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn counts_of_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
) -> sqlx::Result<Vec<ListCountRow>> {
    let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
        "select l.id, l.recipient_user_id, count(i.id), coalesce(sum(case \
           when i.id is not null and (i.quantity is null or coalesce(t.taken, 0) < i.quantity) \
           then 1 else 0 end), 0) \
         from lists l left join items i on i.list_id = l.id \
         left join (select item_id, sum(units) as taken from claims group by item_id) t \
           on t.item_id = i.id \
         where l.family_id = $1 group by l.id, l.recipient_user_id",
    )
    .bind(family.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, recipient, gifts, open)| ListCountRow {
            list_id: ListId(id),
            recipient: recipient.map(UserId),
            gifts,
            open,
        })
        .collect())
}

/// Sets the title and bumps the version; returns the new version.
#[instrument(skip_all, fields(list_id = %id))]
pub async fn rename_list<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ListId,
    title: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "update lists set title = $1, version = version + 1 where id = $2 returning version",
    )
    .bind(title)
    .bind(id.as_str())
    .fetch_optional(db)
    .await
}

/// Saves a list's settings (title, event date, archived or not, reveal
/// after the event, whom it is for) and bumps its version; returns the new
/// version. The reveal starts over whenever its date, its choice or the
/// person it is for changes (see [`mark_revealed`]).
#[instrument(skip_all, fields(list_id = %list.id))]
pub async fn save_settings<'e, E: Executor<'e, Database = Any>>(
    db: E,
    list: &GiftList,
    now: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "update lists set title = $1, event_date = $2, \
         archived_at = case when $3 = 0 then null else coalesce(archived_at, $4) end, \
         revealed_at = case when reveal_after_event = $5 and event_date is not distinct from $2 \
                       and recipient_user_id is not distinct from $7 \
                       then revealed_at else null end, \
         reveal_after_event = $5, recipient_user_id = $7, recipient_name = $8, \
         version = version + 1 where id = $6 returning version",
    )
    .bind(&list.title)
    .bind(list.event_date.as_deref())
    .bind(i64::from(list.archived))
    .bind(now)
    .bind(i64::from(list.reveal_after_event))
    .bind(list.id.as_str())
    .bind(list.recipient_user_id.as_ref().map(UserId::as_str))
    .bind(list.recipient_name.as_deref())
    .fetch_optional(db)
    .await
}

/// Opens the recipient's thank-you view of a list whose event is over,
/// once: `false` when it was already open or is not due (no reveal chosen,
/// no date, or the date not before `today`). Bumps the version.
#[instrument(skip_all, fields(list_id = %id))]
pub async fn mark_revealed<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ListId,
    today: &str,
    now: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update lists set revealed_at = $1, version = version + 1 \
         where id = $2 and revealed_at is null and reveal_after_event = 1 \
         and event_date is not null and event_date < $3",
    )
    .bind(now)
    .bind(id.as_str())
    .bind(today)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The lists whose thank-you view is due on `today` and not open yet.
#[instrument(skip_all)]
pub async fn due_for_reveal<'e, E: Executor<'e, Database = Any>>(
    db: E,
    today: &str,
) -> sqlx::Result<Vec<ListId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select id from lists where revealed_at is null and reveal_after_event = 1 \
         and event_date is not null and event_date < $1 order by id",
    )
    .bind(today)
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(ListId).collect())
}

/// The lists not archived whose event falls between `from` and `until`
/// (inclusive, `YYYY-MM-DD`) and whose reminder has not gone out for that
/// date, with the date.
#[instrument(skip_all)]
pub async fn due_for_reminder<'e, E: Executor<'e, Database = Any>>(
    db: E,
    from: &str,
    until: &str,
) -> sqlx::Result<Vec<(ListId, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select id, event_date from lists where archived_at is null and event_date is not null \
         and event_date >= $1 and event_date <= $2 \
         and (reminded_for is null or reminded_for <> event_date) order by id",
    )
    .bind(from)
    .bind(until)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, day)| (ListId(id), day))
        .collect())
}

/// Takes the reminder of list `id` for `event_date`: `false` when it went
/// out already (on this instance or another) or the date changed since.
#[instrument(skip_all, fields(list_id = %id))]
pub async fn take_reminder<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ListId,
    event_date: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update lists set reminded_for = event_date where id = $1 and event_date = $2 \
         and (reminded_for is null or reminded_for <> event_date)",
    )
    .bind(id.as_str())
    .bind(event_date)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes a list for a member one for a name (their account is going):
/// bumps the version; returns the new one.
#[instrument(skip_all, fields(list_id = %id))]
pub async fn set_recipient_name<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ListId,
    name: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "update lists set recipient_user_id = null, recipient_name = $1, version = version + 1 \
         where id = $2 returning version",
    )
    .bind(name)
    .bind(id.as_str())
    .fetch_optional(db)
    .await
}

/// Takes the list's row lock for the rest of the transaction (on
/// PostgreSQL; SQLite's write transaction already excludes every other
/// writer), so changes to one list are decided one at a time: an item is
/// never added to a list being removed, and a list is removed once.
/// `false` when the list does not exist (any more).
#[instrument(skip_all, fields(list_id = %id))]
pub async fn lock_list(conn: &mut AnyConnection, id: &ListId) -> sqlx::Result<bool> {
    let locked = sqlx::query("update lists set version = version where id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// The item, read under its row lock, held for the rest of the
/// transaction (see [`lock_list`]): claims, releases and removal of one
/// item are decided one at a time, each on what the one before left.
/// `None` when the item does not exist (any more).
#[instrument(skip_all, fields(item_id = %id))]
pub async fn locked_item(conn: &mut AnyConnection, id: &ItemId) -> sqlx::Result<Option<Item>> {
    let locked = sqlx::query("update items set version = version where id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    if locked.rows_affected() == 0 {
        return Ok(None);
    }
    item(conn, id).await
}

/// Removes a list with its items and their claims.
#[instrument(skip_all, fields(list_id = %id))]
pub async fn delete_list(conn: &mut AnyConnection, id: &ListId) -> sqlx::Result<()> {
    // Spelled out rather than left to ON DELETE CASCADE, which SQLite
    // applies only when foreign keys are on for the connection.
    for table in ["claims", "pledges", "group_gifts"] {
        sqlx::query(&format!(
            "delete from {table} where item_id in (select id from items where list_id = $1)"
        ))
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    // The list's pictures go with it (a picture is on one item).
    sqlx::query(
        "delete from pictures where id in (select picture_id from items where list_id = $1)",
    )
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from items where list_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "delete from guests where share_id in (select id from share_links where list_id = $1)",
    )
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from share_links where list_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from lists where id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    list_id: String,
    title: String,
    url: Option<String>,
    price_cents: Option<i64>,
    currency: String,
    notes: Option<String>,
    priority: i64,
    version: i64,
    created_by: String,
    quantity: Option<i64>,
    picture_id: Option<String>,
    claim_status: Option<String>,
    claim_by: Option<String>,
    claim_units: Option<i64>,
    /// The holder's name when the holder is a guest.
    claim_guest: Option<String>,
}

impl ItemRow {
    fn claim(&mut self) -> Option<ClaimPart> {
        Some(ClaimPart {
            status: ClaimStatus::parse(self.claim_status.as_deref()?)?,
            by: UserId(self.claim_by.take()?),
            units: self.claim_units?,
            guest: self.claim_guest.take(),
        })
    }
}

/// Items from rows of [`ITEM_SELECT`], one row per claim (or one without):
/// consecutive rows of one item become that item with all its claims.
fn items_from(rows: Vec<ItemRow>) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut parts: Vec<Vec<ClaimPart>> = Vec::new();
    for mut row in rows {
        let claim = row.claim();
        match items.last_mut() {
            Some(item) if item.id.0 == row.id => {
                parts.last_mut().expect("one per item").extend(claim);
            }
            _ => {
                parts.push(claim.into_iter().collect());
                items.push(Item {
                    id: ItemId(row.id),
                    list_id: ListId(row.list_id),
                    title: row.title,
                    url: row.url,
                    price_cents: row.price_cents,
                    currency: row.currency,
                    notes: row.notes,
                    priority: row.priority,
                    version: row.version,
                    created_by: UserId(row.created_by),
                    quantity: row.quantity,
                    claim: None,
                    claims: Vec::new(),
                    group: None,
                    picture: row.picture_id.map(PictureId),
                })
            }
        }
    }
    items
        .into_iter()
        .zip(parts)
        .map(|(item, parts)| item.with_claims(parts))
        .collect()
}

const ITEM_SELECT: &str = "select i.id, i.list_id, i.title, i.url, i.price_cents, i.currency, \
     i.notes, i.priority, i.version, i.created_by, i.quantity, i.picture_id, c.status as claim_status, \
     c.user_id as claim_by, c.units as claim_units, cu.name as claim_guest \
     from items i left join claims c on c.item_id = i.id \
     left join guests cg on cg.user_id = c.user_id left join users cu on cu.id = cg.user_id";

/// Each item's claims oldest first (rows of one item stay together).
const CLAIM_ORDER: &str = "c.claimed_at, c.user_id";

/// Which items [`with_groups`] reads the group gifts of.
#[derive(Clone, Copy)]
enum Scope<'a> {
    List(&'a ListId),
    Item(&'a ItemId),
}

impl<'a> Scope<'a> {
    fn condition(self) -> &'static str {
        match self {
            Scope::List(_) => "i.list_id = $1",
            Scope::Item(_) => "i.id = $1",
        }
    }

    fn id(self) -> &'a str {
        match self {
            Scope::List(list) => list.as_str(),
            Scope::Item(item) => item.as_str(),
        }
    }
}

/// `items` with their group gifts and pledges (two reads for all of them).
async fn with_groups(
    conn: &mut AnyConnection,
    mut items: Vec<Item>,
    scope: Scope<'_>,
) -> sqlx::Result<Vec<Item>> {
    let groups: Vec<(String, i64, Option<String>)> = sqlx::query_as(&format!(
        "select g.item_id, g.target_cents, g.organiser_user_id from group_gifts g \
         join items i on i.id = g.item_id where {}",
        scope.condition()
    ))
    .bind(scope.id())
    .fetch_all(&mut *conn)
    .await?;
    if groups.is_empty() {
        return Ok(items);
    }
    let rows: Vec<(String, String, i64, String, i64, Option<String>)> = sqlx::query_as(&format!(
        "select p.item_id, p.user_id, p.amount_cents, p.currency, p.paid, pu.name from pledges p \
         join items i on i.id = p.item_id \
         left join guests pg on pg.user_id = p.user_id left join users pu on pu.id = pg.user_id \
         where {} order by p.pledged_at, p.user_id",
        scope.condition()
    ))
    .bind(scope.id())
    .fetch_all(&mut *conn)
    .await?;
    let mut pledges: HashMap<String, Vec<Pledge>> = HashMap::new();
    for (item, by, amount_cents, currency, paid, guest) in rows {
        pledges.entry(item).or_default().push(Pledge {
            by: UserId(by),
            amount_cents,
            currency,
            paid: paid != 0,
            guest,
        });
    }
    let groups: HashMap<String, (i64, Option<String>)> = groups
        .into_iter()
        .map(|(item, target, organiser)| (item, (target, organiser)))
        .collect();
    for item in &mut items {
        if let Some((target, organiser)) = groups.get(item.id.as_str()) {
            item.group = Some(GroupGift::new(
                *target,
                organiser.clone().map(UserId),
                pledges.remove(item.id.as_str()).unwrap_or_default(),
                &item.currency,
            ));
        }
    }
    Ok(items)
}

/// The items of a list with their claims and group gifts: most wanted
/// first, then oldest.
#[instrument(skip_all, fields(list_id = %list))]
pub async fn items_of_list(conn: &mut AnyConnection, list: &ListId) -> sqlx::Result<Vec<Item>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "{ITEM_SELECT} where i.list_id = $1 order by i.priority, i.created_at, i.id, {CLAIM_ORDER}"
    ))
    .bind(list.as_str())
    .fetch_all(&mut *conn)
    .await?;
    with_groups(conn, items_from(rows), Scope::List(list)).await
}

/// The ids of a list's items, oldest first: the page's "newest first".
#[instrument(skip_all, fields(list_id = %list))]
pub async fn item_ids_by_age<'e, E: Executor<'e, Database = Any>>(
    db: E,
    list: &ListId,
) -> sqlx::Result<Vec<ItemId>> {
    let ids: Vec<(String,)> =
        sqlx::query_as("select id from items where list_id = $1 order by created_at, id")
            .bind(list.as_str())
            .fetch_all(db)
            .await?;
    Ok(ids.into_iter().map(|(id,)| ItemId(id)).collect())
}

/// One item with its claims and group gift.
#[instrument(skip_all, fields(item_id = %id))]
pub async fn item(conn: &mut AnyConnection, id: &ItemId) -> sqlx::Result<Option<Item>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "{ITEM_SELECT} where i.id = $1 order by {CLAIM_ORDER}"
    ))
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let items = with_groups(conn, items_from(rows), Scope::Item(id)).await?;
    Ok(items.into_iter().next())
}

#[instrument(skip_all, fields(item_id = %item.id))]
pub async fn insert_item<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &Item,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into items (id, list_id, title, url, price_cents, currency, notes, priority, version, created_by, created_at, updated_at, quantity, picture_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)",
    )
    .bind(item.id.as_str())
    .bind(item.list_id.as_str())
    .bind(&item.title)
    .bind(item.url.as_deref())
    .bind(item.price_cents)
    .bind(&item.currency)
    .bind(item.notes.as_deref())
    .bind(item.priority)
    .bind(item.version)
    .bind(item.created_by.as_str())
    .bind(now)
    .bind(item.quantity)
    .bind(item.picture.as_ref().map(PictureId::as_str))
    .execute(db)
    .await?;
    Ok(())
}

/// Writes `fields` if the item is still at `expected_version`, bumping the
/// version; `None` when it is not (or is gone).
#[instrument(skip_all, fields(item_id = %id))]
pub async fn update_item<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &ItemId,
    fields: &ItemFields,
    expected_version: i64,
    now: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "update items set title = $1, url = $2, price_cents = $3, currency = $4, notes = $5, \
         priority = $6, version = version + 1, updated_at = $7, quantity = $10, picture_id = $11 \
         where id = $8 and version = $9 returning version",
    )
    .bind(&fields.title)
    .bind(fields.url.as_deref())
    .bind(fields.price_cents)
    .bind(&fields.currency)
    .bind(fields.notes.as_deref())
    .bind(fields.priority)
    .bind(now)
    .bind(id.as_str())
    .bind(expected_version)
    .bind(fields.quantity)
    .bind(fields.picture.as_ref().map(PictureId::as_str))
    .fetch_optional(db)
    .await
}

#[instrument(skip_all, fields(item_id = %id))]
pub async fn delete_item(conn: &mut AnyConnection, id: &ItemId) -> sqlx::Result<()> {
    for table in ["claims", "pledges", "group_gifts"] {
        sqlx::query(&format!("delete from {table} where item_id = $1"))
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("delete from items where id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives `user` `units` of an item; `Ok(false)` if they hold some already.
/// Whether that many are free is the caller's check, under the item's lock
/// ([`locked_item`]).
#[instrument(skip_all, fields(item_id = %item, user_id = %user))]
pub async fn insert_claim<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
    status: ClaimStatus,
    units: i64,
    now: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into claims (item_id, user_id, status, units, claimed_at) \
         values ($1, $2, $3, $4, $5) on conflict (item_id, user_id) do nothing",
    )
    .bind(item.as_str())
    .bind(user.as_str())
    .bind(status.as_str())
    .bind(units)
    .bind(now)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Changes the status and units of `user`'s claim; `Ok(false)` if they
/// hold none.
pub async fn update_claim<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
    status: ClaimStatus,
    units: i64,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        "update claims set status = $1, units = $2 where item_id = $3 and user_id = $4",
    )
    .bind(status.as_str())
    .bind(units)
    .bind(item.as_str())
    .bind(user.as_str())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Lowers `user`'s claim to `units` (at least 1), for an item whose
/// quantity went down.
pub async fn set_claim_units<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
    units: i64,
) -> sqlx::Result<()> {
    sqlx::query("update claims set units = $1 where item_id = $2 and user_id = $3")
        .bind(units)
        .bind(item.as_str())
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Releases `user`'s claim; `Ok(false)` if they hold none.
pub async fn delete_claim<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("delete from claims where item_id = $1 and user_id = $2")
        .bind(item.as_str())
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Makes `item` a group gift with `target` cents, or sets the target of
/// the one it is.
pub async fn upsert_group<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    target: i64,
    by: &UserId,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into group_gifts (item_id, target_cents, organiser_user_id, created_by, created_at) \
         values ($1, $2, null, $3, $4) \
         on conflict (item_id) do update set target_cents = excluded.target_cents",
    )
    .bind(item.as_str())
    .bind(target)
    .bind(by.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Makes `item` an ordinary item again.
pub async fn delete_group<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
) -> sqlx::Result<()> {
    sqlx::query("delete from group_gifts where item_id = $1")
        .bind(item.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Gives `user` the organiser's role of `item`'s group gift.
pub async fn set_organiser<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
) -> sqlx::Result<()> {
    sqlx::query("update group_gifts set organiser_user_id = $1 where item_id = $2")
        .bind(user.as_str())
        .bind(item.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Sets `user`'s pledge to `item`: made now, or changed (keeping when it
/// was first made, which decides the order and the default organiser).
pub async fn upsert_pledge<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
    amount_cents: i64,
    currency: &str,
    paid: bool,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into pledges (item_id, user_id, amount_cents, currency, paid, pledged_at) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (item_id, user_id) do update set amount_cents = excluded.amount_cents, \
         currency = excluded.currency, paid = excluded.paid",
    )
    .bind(item.as_str())
    .bind(user.as_str())
    .bind(amount_cents)
    .bind(currency)
    .bind(i64::from(paid))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Withdraws `user`'s pledge; `Ok(false)` if they made none.
pub async fn delete_pledge<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("delete from pledges where item_id = $1 and user_id = $2")
        .bind(item.as_str())
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// The items on `family`'s lists that `user` holds a claim on, has pledged
/// to or organises, with their lists, in a stable order (by item id), so
/// that two changes lock them in the same order.
#[instrument(skip_all, fields(family_id = %family, user_id = %user))]
pub async fn items_held_in_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &crate::model::FamilyId,
    user: &UserId,
) -> sqlx::Result<Vec<(ItemId, ListId)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select i.id, i.list_id from items i join lists l on l.id = i.list_id \
         where l.family_id = $1 and ( \
           exists (select 1 from claims c where c.item_id = i.id and c.user_id = $2) \
           or exists (select 1 from pledges p where p.item_id = i.id and p.user_id = $2) \
           or exists (select 1 from group_gifts g where g.item_id = i.id and g.organiser_user_id = $2)) \
         order by i.id",
    )
    .bind(family.as_str())
    .bind(user.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(item, list)| (ItemId(item), ListId(list)))
        .collect())
}

/// Takes the organiser's role of `item`'s group gift from `user`, if they
/// hold it; someone else can take it up.
pub async fn clear_organiser<'e, E: Executor<'e, Database = Any>>(
    db: E,
    item: &ItemId,
    user: &UserId,
) -> sqlx::Result<()> {
    sqlx::query(
        "update group_gifts set organiser_user_id = null where item_id = $1 and organiser_user_id = $2",
    )
    .bind(item.as_str())
    .bind(user.as_str())
    .execute(db)
    .await?;
    Ok(())
}
