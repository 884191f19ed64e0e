//! Prices as each language writes them: "€1,234.50" in English, "1.234,50 €"
//! in German, "1 234,50 €" in French, "1234,50 €" in Spanish.
//!
//! Written here rather than taken from ICU: ICU4X's currency formatter is
//! still experimental, and its locale data would ship in the browser bundle
//! for four languages whose rules fit in the table below.

/// How one language writes an amount of money.
struct Style {
    group: &'static str,
    decimal: char,
    /// Symbol first ("€5.00") or last ("5,00 €").
    symbol_first: bool,
    /// The smallest number of digits before the decimal point that gets a
    /// group separator (Spanish groups 12.345 but not 1234).
    min_grouped: usize,
}

const NBSP: &str = "\u{a0}";

fn style(lang: &str) -> Style {
    match lang {
        "de" => Style {
            group: ".",
            decimal: ',',
            symbol_first: false,
            min_grouped: 4,
        },
        "fr" => Style {
            // A narrow no-break space, as French typography has it.
            group: "\u{202f}",
            decimal: ',',
            symbol_first: false,
            min_grouped: 4,
        },
        "es" => Style {
            group: ".",
            decimal: ',',
            symbol_first: false,
            min_grouped: 5,
        },
        _ => Style {
            group: ",",
            decimal: '.',
            symbol_first: true,
            min_grouped: 4,
        },
    }
}

/// The sign people know a currency by; the ISO code for the others.
fn symbol(currency: &str) -> &str {
    match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        "JPY" => "¥",
        "INR" => "₹",
        other => other,
    }
}

/// `cents` of `currency` as `lang` writes it (`lang` as in `<html lang>`;
/// anything unknown is written the English way).
pub fn format_money(cents: i64, currency: &str, lang: &str) -> String {
    let style = style(lang);
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + 4);
    if whole.len() >= style.min_grouped {
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push_str(style.group);
            }
            grouped.push(digit);
        }
    } else {
        grouped.push_str(&whole);
    }
    let amount = format!("{grouped}{}{:02}", style.decimal, cents % 100);
    let symbol = symbol(currency);
    // A code ("CHF") is set apart from the number; a sign ("€") is not,
    // where it comes first.
    let is_code = symbol.chars().all(|c| c.is_ascii_alphabetic());
    match (style.symbol_first, is_code) {
        (true, false) => format!("{sign}{symbol}{amount}"),
        (true, true) => format!("{sign}{symbol}{NBSP}{amount}"),
        (false, _) => format!("{sign}{amount}{NBSP}{symbol}"),
    }
}

/// Cents as a price field holds them, whatever the language: `12.50`.
pub fn cents_text(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::format_money;

    #[test]
    fn each_language_writes_its_own_way() {
        assert_eq!(format_money(8999, "EUR", "en"), "€89.99");
        assert_eq!(format_money(8999, "EUR", "de"), "89,99\u{a0}€");
        assert_eq!(format_money(8999, "EUR", "fr"), "89,99\u{a0}€");
        assert_eq!(format_money(8999, "EUR", "es"), "89,99\u{a0}€");
        assert_eq!(format_money(123_450, "USD", "en"), "$1,234.50");
        assert_eq!(format_money(123_450, "EUR", "de"), "1.234,50\u{a0}€");
        assert_eq!(format_money(123_450, "EUR", "fr"), "1\u{202f}234,50\u{a0}€");
        assert_eq!(format_money(123_450, "EUR", "es"), "1234,50\u{a0}€");
        assert_eq!(format_money(1_234_505, "EUR", "es"), "12.345,05\u{a0}€");
        assert_eq!(format_money(123_456_789, "GBP", "en"), "£1,234,567.89");
        assert_eq!(format_money(5, "CHF", "en"), "CHF\u{a0}0.05");
        assert_eq!(format_money(1000, "CHF", "de"), "10,00\u{a0}CHF");
        assert_eq!(format_money(1000, "EUR", "xx"), "€10.00");
    }
}
