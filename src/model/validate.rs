//! Limits and checks on what people type. Shared, so the pages can check a
//! form before sending it and the server checks everything again.
//!
//! Strings are kept verbatim (no trimming, no case folding), except that an
//! empty optional field (`url`, `notes`) means "none".

use super::{
    error::AppError,
    input::{ItemPatch, NewItem},
};

pub const TITLE_MAX_BYTES: usize = 200;
pub const NAME_MAX_BYTES: usize = 100;
pub const NOTES_MAX_BYTES: usize = 2_000;
pub const URL_MAX_BYTES: usize = 2_000;
pub const EMAIL_MAX_BYTES: usize = 254;
pub const PASSWORD_MIN_BYTES: usize = 8;
pub const PASSWORD_MAX_BYTES: usize = 1_024;
pub const PRICE_MAX_CENTS: i64 = 1_000_000_000_000;
pub const PRIORITY_MIN: i64 = 1;
pub const PRIORITY_MAX: i64 = 5;
pub const DEFAULT_PRIORITY: i64 = 3;
pub const DEFAULT_CURRENCY: &str = "EUR";
/// The most units an item may want, or a giver hold.
pub const QUANTITY_MAX: i64 = 999;

/// A required one-line text: not blank, at most `max` bytes, no NUL.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.trim().is_empty() {
        return Err(AppError::bad_request(format!("{field} must not be empty")));
    }
    optional_text(field, value, max)
}

/// An optional text: at most `max` bytes, no NUL.
pub fn optional_text(field: &str, value: &str, max: usize) -> Result<(), AppError> {
    if value.len() > max {
        return Err(AppError::bad_request(format!(
            "{field} is too long: at most {max} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(AppError::bad_request(format!(
            "{field} must not contain NUL characters"
        )));
    }
    Ok(())
}

pub fn title(value: &str) -> Result<(), AppError> {
    text("title", value, TITLE_MAX_BYTES)
}

pub fn person_name(value: &str) -> Result<(), AppError> {
    text("name", value, NAME_MAX_BYTES)
}

pub fn family_name(value: &str) -> Result<(), AppError> {
    text("name", value, TITLE_MAX_BYTES)
}

/// A plausible address: one `@` with something on both sides, no spaces.
pub fn email(value: &str) -> Result<(), AppError> {
    text("email", value, EMAIL_MAX_BYTES)?;
    let plausible = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if plausible {
        Ok(())
    } else {
        Err(AppError::bad_request("email is not a valid address"))
    }
}

/// The key emails are unique by: the address in lower case.
pub fn email_key(value: &str) -> String {
    value.to_lowercase()
}

pub fn password(value: &str) -> Result<(), AppError> {
    if value.len() < PASSWORD_MIN_BYTES {
        return Err(AppError::bad_request(format!(
            "password is too short: at least {PASSWORD_MIN_BYTES} characters"
        )));
    }
    if value.len() > PASSWORD_MAX_BYTES {
        return Err(AppError::bad_request(format!(
            "password is too long: at most {PASSWORD_MAX_BYTES} bytes"
        )));
    }
    if value.contains('\0') {
        return Err(AppError::bad_request(
            "password must not contain NUL characters",
        ));
    }
    Ok(())
}

/// An http(s) link: anything else (`javascript:`, `data:`) could run in the
/// page of whoever clicks it.
pub fn url(value: &str) -> Result<(), AppError> {
    optional_text("url", value, URL_MAX_BYTES)?;
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
    let host_ok = value
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok || !host_ok || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::bad_request(
            "url must be a web address starting with http:// or https://",
        ));
    }
    Ok(())
}

pub fn price_cents(value: i64) -> Result<(), AppError> {
    if (0..=PRICE_MAX_CENTS).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "price_cents must be between 0 and {PRICE_MAX_CENTS}"
        )))
    }
}

/// The smallest pledge: one unit of the currency.
pub const PLEDGE_MIN_CENTS: i64 = 100;

/// A group gift's target: more than nothing, within the price bounds.
pub fn target_cents(value: i64) -> Result<(), AppError> {
    if (1..=PRICE_MAX_CENTS).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "target_cents must be between 1 and {PRICE_MAX_CENTS}"
        )))
    }
}

/// A pledge: at least one unit of the currency, within the price bounds.
pub fn pledge_cents(value: i64) -> Result<(), AppError> {
    if (PLEDGE_MIN_CENTS..=PRICE_MAX_CENTS).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "amount_cents must be between {PLEDGE_MIN_CENTS} (one unit of the currency) and {PRICE_MAX_CENTS}"
        )))
    }
}

/// The longest name a guest may give, in characters.
pub const GUEST_NAME_MAX_CHARS: usize = 60;

/// A guest's display name ("Grandma"): 1 to [`GUEST_NAME_MAX_CHARS`]
/// characters, not blank, no control characters. Returns it trimmed.
pub fn guest_name(value: &str) -> Result<String, AppError> {
    let name = value.trim();
    if name.is_empty() {
        return Err(AppError::bad_request(
            "give your name, so the family knows who is bringing it",
        ));
    }
    if name.chars().count() > GUEST_NAME_MAX_CHARS {
        return Err(AppError::bad_request(format!(
            "name is too long: at most {GUEST_NAME_MAX_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// An ISO 4217 code: three capital letters, such as EUR or USD.
pub fn currency(value: &str) -> Result<(), AppError> {
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "currency must be an ISO 4217 code such as EUR or USD",
        ))
    }
}

pub fn priority(value: i64) -> Result<(), AppError> {
    if (PRIORITY_MIN..=PRIORITY_MAX).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "priority must be between {PRIORITY_MIN} (most wanted) and {PRIORITY_MAX}"
        )))
    }
}

/// A wanted quantity: 1 to [`QUANTITY_MAX`] (`None`, no limit, is checked
/// by the type).
pub fn quantity(value: i64) -> Result<(), AppError> {
    if (1..=QUANTITY_MAX).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "quantity must be between 1 and {QUANTITY_MAX}, or null for no limit"
        )))
    }
}

/// How many units one giver claims: 1 to [`QUANTITY_MAX`] (what is still
/// free is the service's check, under the item's lock).
pub fn units(value: i64) -> Result<(), AppError> {
    if (1..=QUANTITY_MAX).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "units must be between 1 and {QUANTITY_MAX}"
        )))
    }
}

/// An item's editable fields, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemFields {
    pub title: String,
    pub url: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: String,
    pub notes: Option<String>,
    pub priority: i64,
    /// `None`: no limit.
    pub quantity: Option<i64>,
    /// Checked by the service (it must be the caller's, or already the
    /// item's), not here: that needs the database.
    pub picture: Option<super::PictureId>,
}

fn none_if_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

impl ItemFields {
    /// Checks a new item, filling in the defaults.
    pub fn from_new(input: NewItem) -> Result<Self, AppError> {
        let fields = ItemFields {
            title: input.title,
            url: none_if_empty(input.url),
            price_cents: input.price_cents,
            currency: input
                .currency
                .unwrap_or_else(|| DEFAULT_CURRENCY.to_string()),
            notes: none_if_empty(input.notes),
            priority: input.priority.unwrap_or(DEFAULT_PRIORITY),
            quantity: input.quantity.unwrap_or(Some(1)),
            picture: input.picture,
        };
        fields.check()?;
        Ok(fields)
    }

    /// These fields with `patch` applied, checked.
    pub fn patched(&self, patch: ItemPatch) -> Result<Self, AppError> {
        fn required<T>(field: &str, value: Option<Option<T>>, current: T) -> Result<T, AppError> {
            match value {
                None => Ok(current),
                Some(Some(value)) => Ok(value),
                Some(None) => Err(AppError::bad_request(format!("{field} must not be null"))),
            }
        }
        fn clearable<T>(value: Option<Option<T>>, current: Option<T>) -> Option<T> {
            value.unwrap_or(current)
        }
        let fields = ItemFields {
            title: required("title", patch.title, self.title.clone())?,
            url: none_if_empty(clearable(patch.url, self.url.clone())),
            price_cents: clearable(patch.price_cents, self.price_cents),
            currency: required("currency", patch.currency, self.currency.clone())?,
            notes: none_if_empty(clearable(patch.notes, self.notes.clone())),
            priority: required("priority", patch.priority, self.priority)?,
            quantity: clearable(patch.quantity, self.quantity),
            picture: clearable(patch.picture, self.picture.clone()),
        };
        fields.check()?;
        Ok(fields)
    }

    fn check(&self) -> Result<(), AppError> {
        title(&self.title)?;
        if let Some(value) = &self.url {
            url(value)?;
        }
        if let Some(value) = self.price_cents {
            price_cents(value)?;
        }
        currency(&self.currency)?;
        if let Some(value) = &self.notes {
            optional_text("notes", value, NOTES_MAX_BYTES)?;
        }
        if let Some(value) = self.quantity {
            quantity(value)?;
        }
        priority(self.priority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_item(title: &str) -> NewItem {
        NewItem {
            title: title.into(),
            url: None,
            price_cents: None,
            currency: None,
            notes: None,
            priority: None,
            quantity: None,
            picture: None,
        }
    }

    #[test]
    fn guest_names_are_trimmed_and_bounded() {
        assert_eq!(guest_name("  Grandma ").unwrap(), "Grandma");
        assert_eq!(guest_name(&"é".repeat(60)).unwrap().chars().count(), 60);
        for bad in ["", "   ", "Gr\u{7}andma", "Line\nbreak"] {
            assert_eq!(guest_name(bad).unwrap_err().code.status(), 400, "{bad:?}");
        }
        assert!(guest_name(&"é".repeat(61)).is_err());
    }

    #[test]
    fn new_item_gets_defaults_and_keeps_strings_verbatim() {
        let fields = ItemFields::from_new(new_item("  Bike  ")).unwrap();
        assert_eq!(fields.title, "  Bike  ");
        assert_eq!(fields.currency, "EUR");
        assert_eq!(fields.priority, 3);
        assert_eq!(fields.url, None);
        assert_eq!(fields.quantity, Some(1));
        let mut unlimited = new_item("Gift card");
        unlimited.quantity = Some(None);
        assert_eq!(ItemFields::from_new(unlimited).unwrap().quantity, None);
    }

    #[test]
    fn limits_are_exact() {
        assert!(title(&"a".repeat(200)).is_ok());
        assert!(title(&"a".repeat(201)).is_err());
        assert!(title("   ").is_err());
        assert!(title("a\0b").is_err());
        // Bytes, not characters: 100 two-byte characters is 200 bytes.
        assert!(title(&"é".repeat(100)).is_ok());
        assert!(title(&"é".repeat(101)).is_err());
        assert!(price_cents(PRICE_MAX_CENTS).is_ok());
        assert!(price_cents(PRICE_MAX_CENTS + 1).is_err());
        assert!(price_cents(-1).is_err());
        assert!(priority(0).is_err() && priority(6).is_err() && priority(5).is_ok());
        assert!(quantity(0).is_err() && quantity(1000).is_err() && quantity(999).is_ok());
        assert!(units(0).is_err() && units(-1).is_err() && units(999).is_ok());
        assert!(pledge_cents(99).is_err() && pledge_cents(100).is_ok());
        assert!(
            pledge_cents(PRICE_MAX_CENTS).is_ok() && pledge_cents(PRICE_MAX_CENTS + 1).is_err()
        );
        assert!(target_cents(0).is_err() && target_cents(1).is_ok());
        assert!(password(&"x".repeat(1024)).is_ok());
        assert!(password(&"x".repeat(1025)).is_err());
        assert!(password("short").is_err());
    }

    #[test]
    fn urls_must_be_web_addresses() {
        assert!(url("https://example.org/bike?x=1").is_ok());
        assert!(url("HTTP://EXAMPLE.ORG").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "https://",
            "http:///x",
            "example.org",
            "https://a b",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_are_iso_codes() {
        assert!(currency("USD").is_ok());
        assert!(currency("usd").is_err() && currency("EURO").is_err() && currency("").is_err());
    }

    #[test]
    fn patch_keeps_absent_fields_and_clears_nullable_ones() {
        let mut new = new_item("Bike");
        new.url = Some("https://example.org".into());
        new.notes = Some("red".into());
        let current = ItemFields::from_new(new).unwrap();
        let patched = current
            .patched(ItemPatch {
                version: 1,
                notes: Some(None),
                priority: Some(Some(1)),
                ..ItemPatch::default()
            })
            .unwrap();
        assert_eq!(patched.url.as_deref(), Some("https://example.org"));
        assert_eq!(patched.notes, None);
        assert_eq!(patched.priority, 1);
        let refused = current.patched(ItemPatch {
            version: 1,
            title: Some(None),
            ..ItemPatch::default()
        });
        assert!(refused.is_err());
    }

    #[test]
    fn patch_distinguishes_null_from_absent_on_the_wire() {
        let patch: ItemPatch = serde_json::from_str(r#"{"version":2,"notes":null}"#).unwrap();
        assert_eq!(patch.notes, Some(None));
        assert_eq!(patch.url, None);
        assert!(serde_json::from_str::<ItemPatch>(r#"{"version":2,"colour":"red"}"#).is_err());
    }
}
