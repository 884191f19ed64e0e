//! Families, their members and their invite codes.

use sqlx::{Any, Executor};
use tracing::instrument;

use crate::model::{Family, FamilyId, Member, Role, UserId};

#[derive(sqlx::FromRow)]
struct FamilyRow {
    id: String,
    name: String,
}

impl From<FamilyRow> for Family {
    fn from(row: FamilyRow) -> Self {
        Family {
            id: FamilyId(row.id),
            name: row.name,
        }
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: String,
    name: String,
    role: String,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        Member {
            user_id: UserId(row.user_id),
            name: row.name,
            // The column's check constraint allows only the two roles.
            role: Role::parse(&row.role).unwrap_or(Role::Member),
        }
    }
}

#[instrument(skip_all, fields(family_id = %family.id))]
pub async fn insert_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &Family,
    created_by: &UserId,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query("insert into families (id, name, created_by, created_at) values ($1, $2, $3, $4)")
        .bind(family.id.as_str())
        .bind(&family.name)
        .bind(created_by.as_str())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

#[instrument(skip_all, fields(family_id = %id))]
pub async fn family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &FamilyId,
) -> sqlx::Result<Option<Family>> {
    let row: Option<FamilyRow> = sqlx::query_as("select id, name from families where id = $1")
        .bind(id.as_str())
        .fetch_optional(db)
        .await?;
    Ok(row.map(Family::from))
}

/// The families `user` belongs to, by name.
#[instrument(skip_all, fields(user_id = %user))]
pub async fn families_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
) -> sqlx::Result<Vec<Family>> {
    let rows: Vec<FamilyRow> = sqlx::query_as(
        "select f.id, f.name from families f join memberships m on m.family_id = f.id \
         where m.user_id = $1 order by f.name, f.id",
    )
    .bind(user.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Family::from).collect())
}

/// Adds `user` to `family`; `Ok(false)` if they already belong to it.
#[instrument(skip_all, fields(family_id = %family, user_id = %user))]
pub async fn insert_membership<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    user: &UserId,
    role: Role,
    now: &str,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into memberships (family_id, user_id, role, joined_at) values ($1, $2, $3, $4) \
         on conflict (family_id, user_id) do nothing",
    )
    .bind(family.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(now)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The role of `user` in `family`, or `None` if they are not a member.
#[instrument(skip_all, fields(family_id = %family, user_id = %user))]
pub async fn role_of<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    user: &UserId,
) -> sqlx::Result<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("select role from memberships where family_id = $1 and user_id = $2")
            .bind(family.as_str())
            .bind(user.as_str())
            .fetch_optional(db)
            .await?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// The members of `family`, in the order they joined.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn members<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
) -> sqlx::Result<Vec<Member>> {
    let rows: Vec<MemberRow> = sqlx::query_as(
        "select m.user_id, u.name, m.role from memberships m join users u on u.id = m.user_id \
         where m.family_id = $1 order by m.joined_at, m.user_id",
    )
    .bind(family.as_str())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Member::from).collect())
}

/// One member of `family`, or `None`.
pub async fn member<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    user: &UserId,
) -> sqlx::Result<Option<Member>> {
    let row: Option<MemberRow> = sqlx::query_as(
        "select m.user_id, u.name, m.role from memberships m join users u on u.id = m.user_id \
         where m.family_id = $1 and m.user_id = $2",
    )
    .bind(family.as_str())
    .bind(user.as_str())
    .fetch_optional(db)
    .await?;
    Ok(row.map(Member::from))
}

#[instrument(skip_all, fields(family_id = %family))]
pub async fn insert_invite<'e, E: Executor<'e, Database = Any>>(
    db: E,
    code: &str,
    family: &FamilyId,
    created_by: &UserId,
    expires_at: i64,
    email: Option<&str>,
    now: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into invites (code, family_id, created_by, expires_at, email, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(code)
    .bind(family.as_str())
    .bind(created_by.as_str())
    .bind(expires_at)
    .bind(email)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The family an invite code admits to, if the code exists and has not
/// expired at `now` (unix seconds).
#[instrument(skip_all)]
pub async fn family_of_invite<'e, E: Executor<'e, Database = Any>>(
    db: E,
    code: &str,
    now: i64,
) -> sqlx::Result<Option<FamilyId>> {
    let id: Option<String> =
        sqlx::query_scalar("select family_id from invites where code = $1 and expires_at > $2")
            .bind(code)
            .bind(now)
            .fetch_optional(db)
            .await?;
    Ok(id.map(FamilyId))
}

/// Renames a family; `false` when it does not exist.
#[instrument(skip_all, fields(family_id = %id))]
pub async fn rename_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &FamilyId,
    name: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("update families set name = $1 where id = $2")
        .bind(name)
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the family's row lock for the rest of the transaction (on
/// PostgreSQL; SQLite's write transaction already excludes every other
/// writer), so changes to its members are decided one at a time: two
/// admins leaving at once cannot leave the family with none. `false` when
/// the family does not exist.
#[instrument(skip_all, fields(family_id = %id))]
pub async fn lock_family<'e, E: Executor<'e, Database = Any>>(
    db: E,
    id: &FamilyId,
) -> sqlx::Result<bool> {
    let locked = sqlx::query("update families set name = name where id = $1")
        .bind(id.as_str())
        .execute(db)
        .await?;
    Ok(locked.rows_affected() == 1)
}

/// How many admins `family` has.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn admin_count<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from memberships where family_id = $1 and role = 'admin'")
        .bind(family.as_str())
        .fetch_one(db)
        .await
}

/// Sets a member's role; `false` when they are not a member.
#[instrument(skip_all, fields(family_id = %family, user_id = %user))]
pub async fn set_role<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    user: &UserId,
    role: Role,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("update memberships set role = $1 where family_id = $2 and user_id = $3")
            .bind(role.as_str())
            .bind(family.as_str())
            .bind(user.as_str())
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes `user` out of `family`; `false` when they were not in it.
#[instrument(skip_all, fields(family_id = %family, user_id = %user))]
pub async fn delete_membership<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    user: &UserId,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from memberships where family_id = $1 and user_id = $2")
        .bind(family.as_str())
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct InviteRow {
    code: String,
    expires_at: i64,
    created_by: String,
    created_by_name: String,
    email: Option<String>,
    created_at: String,
}

/// An invite code that still admits people, as its family's members see it.
#[derive(Clone, Debug)]
pub struct InviteRecord {
    pub code: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub created_by: UserId,
    pub created_by_name: String,
    /// Where it was mailed, when it was.
    pub email: Option<String>,
    pub created_at: String,
}

/// The invite codes of `family` that have not expired at `now` (unix
/// seconds), newest first.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn open_invites<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    now: i64,
) -> sqlx::Result<Vec<InviteRecord>> {
    let rows: Vec<InviteRow> = sqlx::query_as(
        "select i.code, i.expires_at, i.created_by, u.name as created_by_name, i.email, \
         i.created_at from invites i join users u on u.id = i.created_by \
         where i.family_id = $1 and i.expires_at > $2 order by i.created_at desc, i.code",
    )
    .bind(family.as_str())
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| InviteRecord {
            code: row.code,
            expires_at: row.expires_at,
            created_by: UserId(row.created_by),
            created_by_name: row.created_by_name,
            email: row.email,
            created_at: row.created_at,
        })
        .collect())
}

/// Who made invite `code` of `family`, when it exists there.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn invite_creator<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    code: &str,
) -> sqlx::Result<Option<UserId>> {
    let by: Option<String> =
        sqlx::query_scalar("select created_by from invites where family_id = $1 and code = $2")
            .bind(family.as_str())
            .bind(code)
            .fetch_optional(db)
            .await?;
    Ok(by.map(UserId))
}

/// Revokes an invite code: it admits nobody from now on.
#[instrument(skip_all, fields(family_id = %family))]
pub async fn delete_invite<'e, E: Executor<'e, Database = Any>>(
    db: E,
    family: &FamilyId,
    code: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from invites where family_id = $1 and code = $2")
        .bind(family.as_str())
        .bind(code)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every invite `user` made, in every family.
#[instrument(skip_all, fields(user_id = %user))]
pub async fn delete_invites_by<'e, E: Executor<'e, Database = Any>>(
    db: E,
    user: &UserId,
) -> sqlx::Result<()> {
    sqlx::query("delete from invites where created_by = $1")
        .bind(user.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Removes a family that has no members left, with its invites; its lists
/// must be gone already (see `store::lists::delete_list`).
#[instrument(skip_all, fields(family_id = %id))]
pub async fn delete_family(conn: &mut sqlx::AnyConnection, id: &FamilyId) -> sqlx::Result<()> {
    for table in ["invites", "memberships"] {
        sqlx::query(&format!("delete from {table} where family_id = $1"))
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("delete from families where id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
