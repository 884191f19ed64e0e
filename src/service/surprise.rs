//! The surprise rule, in one place: the recipient of a list never learns
//! that anything on it was claimed, by whom, or when.
//!
//! Every read path goes through these functions: page loads and server
//! functions, the JSON API, the events recorded for each audience, and so
//! polling, the socket and SSE, which replay those events.

use crate::{
    model::{share::SharedItem, GiftList, Item, UserId},
    store::outbox::Audience,
};

/// Whether `viewer` is the person `list` is for.
pub fn is_recipient(viewer: &UserId, list: &GiftList) -> bool {
    list.recipient_user_id.as_ref() == Some(viewer)
}

/// The stream of the list's topic that `viewer` reads.
pub fn audience(viewer: &UserId, list: &GiftList) -> Audience {
    if is_recipient(viewer, list) {
        Audience::Recipient
    } else {
        Audience::Members
    }
}

/// Whose view of the items `viewer` gets: the members' for members and,
/// once the list's thank-you view is open (the day after its event, when
/// a member chose to reveal), for the recipient too; otherwise the
/// recipient's. The stream they read stays their own ([`audience`]).
pub fn items_audience(viewer: &UserId, list: &GiftList) -> Audience {
    match audience(viewer, list) {
        Audience::Recipient if list.revealed => Audience::Members,
        audience => audience,
    }
}

/// `item` as `audience` may see it: without its claims and its group gift
/// (target, pledges, organiser) for the recipient. The wanted quantity
/// stays: the recipient chose it.
pub fn item_for_audience(audience: Audience, item: Item) -> Item {
    match audience {
        Audience::Members | Audience::All => item,
        // The recipient. (Guests are given a `SharedItem`, see
        // `shared_item_for`; were one given an `Item`, it would hold no
        // claim either.)
        Audience::Recipient | Audience::Guests | Audience::Viewers => Item {
            group: None,
            ..item.with_claims(Vec::new())
        },
    }
}

/// `item` as a guest of `audience` sees it: how much is taken for guests
/// of a givers' link, nothing of it for viewers (a view link, or the
/// recipient opening any link). Never who.
pub fn shared_item_for(audience: Audience, item: &Item) -> SharedItem {
    SharedItem::of(item, audience == Audience::Guests)
}

/// `item` as `viewer` may see it.
pub fn item_for(viewer: &UserId, list: &GiftList, item: Item) -> Item {
    item_for_audience(audience(viewer, list), item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClaimPart, ClaimStatus, FamilyId, GroupGift, ListId, Pledge};

    fn list(recipient: Option<&str>) -> GiftList {
        GiftList {
            id: ListId("l_1".into()),
            family_id: FamilyId("f_1".into()),
            title: "Birthday".into(),
            recipient_user_id: recipient.map(|r| UserId(r.into())),
            recipient_name: recipient.is_none().then(|| "Sam".into()),
            version: 1,
            event_date: None,
            archived: false,
            reveal_after_event: false,
            revealed: false,
        }
    }

    fn claimed_item() -> Item {
        Item {
            version: 4,
            created_by: UserId("u_2".into()),
            quantity: Some(3),
            group: Some(GroupGift::new(
                10_000,
                None,
                vec![Pledge {
                    by: UserId("u_3".into()),
                    amount_cents: 2_500,
                    currency: "EUR".into(),
                    paid: true,
                    guest: None,
                }],
                "EUR",
            )),
            ..Item::sample("i_1", "Bike")
        }
        .with_claims(vec![
            ClaimPart {
                status: ClaimStatus::Reserved,
                by: UserId("u_3".into()),
                units: 2,
                guest: None,
            },
            ClaimPart {
                status: ClaimStatus::Purchased,
                by: UserId("u_4".into()),
                units: 1,
                guest: Some("Grandma".into()),
            },
        ])
    }

    #[test]
    fn the_recipient_sees_no_claim_and_everything_else_unchanged() {
        let list = list(Some("u_1"));
        let seen = item_for(&UserId("u_1".into()), &list, claimed_item());
        assert_eq!(seen.claim, None);
        assert_eq!(
            seen,
            Item {
                claim: None,
                claims: Vec::new(),
                group: None,
                ..claimed_item()
            }
        );
        assert_eq!(seen.quantity, Some(3));
        assert!(seen.is_available(), "nothing looks taken to the recipient");
    }

    #[test]
    fn members_see_claims() {
        let list = list(Some("u_1"));
        let seen = item_for(&UserId("u_2".into()), &list, claimed_item());
        assert!(seen.claim.is_some());
        assert_eq!((seen.claims.len(), seen.units_left()), (2, Some(0)));
        let group = seen.group.expect("members see the group gift");
        assert_eq!(
            (group.pledged_cents, group.paid_cents, group.funded),
            (2_500, 2_500, false)
        );
        assert_eq!(
            group.organiser,
            Some(UserId("u_3".into())),
            "the first pledger organises"
        );
        // A list for someone without an account has no recipient among the users.
        let list = list_without_account();
        assert!(item_for(&UserId("u_1".into()), &list, claimed_item())
            .claim
            .is_some());
    }

    #[test]
    fn the_recipient_sees_claims_only_once_the_thank_you_view_is_open() {
        let recipient = UserId("u_1".into());
        let mut list = list(Some("u_1"));
        list.reveal_after_event = true;
        list.event_date = Some("2026-12-05".into());
        assert_eq!(items_audience(&recipient, &list), Audience::Recipient);
        list.revealed = true;
        assert_eq!(items_audience(&recipient, &list), Audience::Members);
        assert_eq!(audience(&recipient, &list), Audience::Recipient);
    }

    fn list_without_account() -> GiftList {
        list(None)
    }
}
