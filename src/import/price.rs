//! Prices as shops write them, to cents: `1.234,56` and `1,234.56` alike,
//! with or without a currency sign. Written here because the rules are
//! about what shop pages put in their metadata, not a general number
//! format.

/// The amount in cents, or `None` when `text` holds no price.
///
/// The last `.` or `,` is the decimal mark when one or two digits follow
/// it; with exactly three digits after it and no other kind of separator,
/// it groups thousands (`1.234` is 1234). Everything but digits and the
/// two marks is ignored (signs, spaces, currency codes).
pub fn cents(text: &str) -> Option<i64> {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect();
    let kept = kept.trim_end_matches(['.', ',']);
    if kept.is_empty() || !kept.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let (whole, fraction) = match kept.rfind(['.', ',']) {
        None => (kept, ""),
        Some(at) => {
            let mark = kept.as_bytes()[at] as char;
            let after = &kept[at + 1..];
            let other = if mark == '.' { ',' } else { '.' };
            let grouping = after.len() == 3 && !kept.contains(other);
            if grouping || after.len() > 3 {
                (kept, "")
            } else {
                (&kept[..at], after)
            }
        }
    };
    let digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    let units: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let fraction = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        2 => fraction.parse::<i64>().ok()?,
        // Three decimals (a schema.org price like "12.990"): rounded.
        _ => (fraction.parse::<i64>().ok()? + 5) / 10,
    };
    units.checked_mul(100)?.checked_add(fraction)
}

/// The amount in cents of a price in machine form (schema.org's `price`,
/// `product:price:amount`): `.` is always the decimal mark there, as in
/// `12.990` or `1234.5`. Anything else is read as a shop writes it.
pub fn machine_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let machine = !text.is_empty()
        && text.matches('.').count() <= 1
        && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !machine {
        return cents(text);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let units: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction: String = fraction.chars().take(3).collect();
    while fraction.len() < 3 {
        fraction.push('0');
    }
    let thousandths: i64 = fraction.parse().ok()?;
    units.checked_mul(100)?.checked_add((thousandths + 5) / 10)
}

/// The ISO 4217 code a page's currency text means: a three-letter code
/// as it is, or the common signs.
pub fn currency(text: &str) -> Option<String> {
    let text = text.trim();
    if text.len() == 3 && text.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(text.to_ascii_uppercase());
    }
    currency_sign(text)
}

/// The currency a price's sign names, when it has one.
pub fn currency_sign(text: &str) -> Option<String> {
    let code = if text.contains('€') {
        "EUR"
    } else if text.contains('£') {
        "GBP"
    } else if text.contains('¥') {
        "JPY"
    } else if text.contains("CHF") {
        "CHF"
    } else if text.contains('$') {
        "USD"
    } else {
        return None;
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_of_writing_prices() {
        for (text, want) in [
            ("19.99", Some(1999)),
            ("19,99", Some(1999)),
            ("1.234,56", Some(123456)),
            ("1,234.56", Some(123456)),
            ("1 234,56 €", Some(123456)),
            ("€ 1.234", Some(123400)),
            ("$1,234", Some(123400)),
            ("1.234.567,8", Some(123456780)),
            ("1234", Some(123400)),
            ("12.5", Some(1250)),
            ("12.990", Some(1299000)),
            ("0,99", Some(99)),
            (".99", Some(99)),
            ("EUR 49", Some(4900)),
            ("", None),
            ("free", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(cents(text), want, "{text:?}");
        }
    }

    #[test]
    fn machine_prices_always_use_a_point() {
        assert_eq!(machine_cents("12.990"), Some(1299));
        assert_eq!(machine_cents("1234.5"), Some(123450));
        assert_eq!(machine_cents("49"), Some(4900));
        assert_eq!(machine_cents("0.999"), Some(100));
        assert_eq!(machine_cents("1.234,56"), Some(123456));
        assert_eq!(machine_cents(""), None);
    }

    #[test]
    fn currencies_by_code_or_sign() {
        assert_eq!(currency("eur").as_deref(), Some("EUR"));
        assert_eq!(currency("€").as_deref(), Some("EUR"));
        assert_eq!(currency("US$").as_deref(), Some("USD"));
        assert_eq!(currency("euros"), None);
        assert_eq!(currency_sign("1.234,56 €").as_deref(), Some("EUR"));
    }
}
