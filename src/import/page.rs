//! What a product page says about its product, read from its metadata in
//! the order shops fill it most reliably: schema.org `Product` JSON-LD
//! (every `ld+json` block, `@graph` too, `offers` as one or many), then
//! OpenGraph and `product:price:*` meta tags, then `itemprop` microdata,
//! then the page's `<title>`. Each field comes from the first source that
//! has it; a broken block is skipped, never an error.

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::price;
use crate::model::validate::TITLE_MAX_BYTES;

/// What a page said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageFacts {
    pub title: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    /// Absolute `http(s)` URL of the product's picture.
    pub image: Option<String>,
    pub site_name: Option<String>,
    /// The page is a wall (a captcha, "are you a robot") with no product.
    pub walled: bool,
}

impl PageFacts {
    /// Fills what is still missing from `other`.
    fn or(mut self, other: PageFacts) -> PageFacts {
        self.title = self.title.or(other.title);
        // A price and its currency come from the same source.
        if self.price_cents.is_none() && other.price_cents.is_some() {
            self.price_cents = other.price_cents;
            self.currency = other.currency.or(self.currency);
        } else {
            self.currency = self.currency.or(other.currency);
        }
        self.image = self.image.or(other.image);
        self.site_name = self.site_name.or(other.site_name);
        self
    }

    fn has_product(&self) -> bool {
        self.price_cents.is_some() || self.image.is_some()
    }
}

/// Reads `html`, the page at `base` (which relative picture links are
/// resolved against).
pub fn read(html: &str, base: &Url) -> PageFacts {
    let doc = Html::parse_document(html);
    let structured = json_ld(&doc, base)
        .or(meta_tags(&doc, base))
        .or(microdata(&doc, base));
    let product = structured.has_product() || structured.title.is_some();
    let mut facts = structured.or(PageFacts {
        title: first_text(&doc, "title"),
        ..PageFacts::default()
    });
    facts.title = facts.title.map(|title| clip(&title, TITLE_MAX_BYTES));
    facts.walled = !product && looks_walled(&doc);
    facts
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// Collapses whitespace; `None` when nothing is left.
fn clean(text: &str) -> Option<String> {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// At most `max` bytes, cut at a character boundary.
fn clip(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim_end().to_owned()
}

fn first_text(doc: &Html, css: &str) -> Option<String> {
    doc.select(&selector(css))
        .find_map(|el| clean(&el.text().collect::<String>()))
}

/// `link` resolved against `base`, when it is an `http(s)` URL.
fn absolute(base: &Url, link: &str) -> Option<String> {
    let url = base.join(link.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

// JSON-LD.

fn json_ld(doc: &Html, base: &Url) -> PageFacts {
    let blocks = selector(r#"script[type="application/ld+json"]"#);
    for script in doc.select(&blocks) {
        let text: String = script.text().collect();
        let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
            continue;
        };
        if let Some(product) = find_product(&value, 0) {
            return product_facts(product, base);
        }
    }
    PageFacts::default()
}

/// The first object typed `Product` in `value` (arrays, `@graph` and nested
/// objects searched, a few levels deep).
fn find_product(value: &Value, depth: usize) -> Option<&Value> {
    if depth > 8 {
        return None;
    }
    match value {
        Value::Array(items) => items.iter().find_map(|v| find_product(v, depth + 1)),
        Value::Object(map) => {
            let typed = |t: &Value| t.as_str().is_some_and(|t| t.ends_with("Product"));
            let is_product = match map.get("@type") {
                Some(Value::Array(types)) => types.iter().any(typed),
                Some(t) => typed(t),
                None => false,
            };
            if is_product {
                return Some(value);
            }
            map.values().find_map(|v| find_product(v, depth + 1))
        }
        _ => None,
    }
}

fn product_facts(product: &Value, base: &Url) -> PageFacts {
    let offers: Vec<&Value> = match &product["offers"] {
        Value::Array(all) => all.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let mut price_cents = None;
    let mut currency = None;
    for offer in offers {
        let spec = match &offer["priceSpecification"] {
            Value::Array(all) => all.first().cloned().unwrap_or(Value::Null),
            one => one.clone(),
        };
        let amount = [&offer["price"], &offer["lowPrice"], &spec["price"]]
            .into_iter()
            .find_map(|v| scalar_text(v).and_then(|t| price::machine_cents(&t)));
        if let Some(amount) = amount {
            price_cents = Some(amount);
            currency = [&offer["priceCurrency"], &spec["priceCurrency"]]
                .into_iter()
                .find_map(|v| v.as_str().and_then(price::currency));
            break;
        }
    }
    PageFacts {
        // Some shops escape their JSON-LD as if it were HTML.
        title: product["name"]
            .as_str()
            .and_then(|name| clean(&html_escape::decode_html_entities(name))),
        price_cents,
        currency,
        image: json_image(&product["image"]).and_then(|link| absolute(base, &link)),
        site_name: None,
        walled: false,
    }
}

/// A string or a number as text.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `image` as a URL, an `ImageObject`, or a list of either.
fn json_image(value: &Value) -> Option<String> {
    match value {
        Value::String(link) => Some(link.clone()),
        Value::Array(all) => all.iter().find_map(json_image),
        Value::Object(map) => map
            .get("url")
            .or_else(|| map.get("contentUrl"))
            .and_then(json_image),
        _ => None,
    }
}

// Meta tags.

fn meta(doc: &Html, names: &[&str]) -> Option<String> {
    let tags = selector("meta");
    names.iter().find_map(|name| {
        doc.select(&tags).find_map(|tag| {
            let tag = tag.value();
            let named = tag.attr("property").or_else(|| tag.attr("name"));
            (named.is_some_and(|n| n.eq_ignore_ascii_case(name)))
                .then(|| tag.attr("content").and_then(clean))
                .flatten()
        })
    })
}

fn meta_tags(doc: &Html, base: &Url) -> PageFacts {
    let amount = meta(doc, &["product:price:amount", "og:price:amount"]);
    PageFacts {
        title: meta(doc, &["og:title", "twitter:title"]),
        price_cents: amount.as_deref().and_then(price::machine_cents),
        currency: meta(doc, &["product:price:currency", "og:price:currency"])
            .as_deref()
            .and_then(price::currency),
        image: meta(doc, &["og:image:secure_url", "og:image", "twitter:image"])
            .and_then(|link| absolute(base, &link)),
        site_name: meta(doc, &["og:site_name"]),
        walled: false,
    }
}

// Microdata.

fn microdata(doc: &Html, base: &Url) -> PageFacts {
    let scopes = selector(r#"[itemscope][itemtype*="schema.org/Product"]"#);
    let Some(scope) = doc.select(&scopes).next() else {
        return PageFacts::default();
    };
    let prop = |name: &str| -> Option<ElementRef<'_>> {
        scope
            .select(&selector(&format!(r#"[itemprop="{name}"]"#)))
            .next()
    };
    let value = |el: ElementRef<'_>| -> Option<String> {
        let attrs = el.value();
        attrs
            .attr("content")
            .and_then(clean)
            .or_else(|| clean(&el.text().collect::<String>()))
    };
    let price_text = prop("price").and_then(value);
    let price_cents = price_text.as_deref().and_then(|text| {
        // A `content` attribute is machine form; visible text is not.
        match prop("price").and_then(|el| el.value().attr("content")) {
            Some(_) => price::machine_cents(text),
            None => price::cents(text),
        }
    });
    let currency = prop("priceCurrency")
        .and_then(value)
        .as_deref()
        .and_then(price::currency)
        .or_else(|| price_text.as_deref().and_then(price::currency_sign));
    let image = prop("image").and_then(|el| {
        let attrs = el.value();
        attrs
            .attr("src")
            .or_else(|| attrs.attr("content"))
            .or_else(|| attrs.attr("href"))
            .and_then(|link| absolute(base, link))
    });
    PageFacts {
        title: prop("name").and_then(value),
        price_cents,
        currency,
        image,
        site_name: None,
        walled: false,
    }
}

/// A page with no product that asks whether the reader is a robot.
fn looks_walled(doc: &Html) -> bool {
    let title = first_text(doc, "title").unwrap_or_default().to_lowercase();
    let walls = [
        "captcha",
        "robot check",
        "are you a robot",
        "just a moment",
        "attention required",
        "access denied",
    ];
    if walls.iter().any(|wall| title.contains(wall)) {
        return true;
    }
    let forms = selector("form, div, iframe");
    doc.select(&forms).any(|el| {
        let attrs = el.value();
        ["action", "id", "class", "src"].iter().any(|name| {
            attrs
                .attr(name)
                .is_some_and(|v| v.to_lowercase().contains("captcha"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> PageFacts {
        read(html, &Url::parse("https://shop.example/p/kite").unwrap())
    }

    #[test]
    fn json_ld_in_a_graph_with_offers_as_a_list() {
        let facts = page(
            r#"<html><head><title>Kite | Shop</title>
            <script type="application/ld+json">{ broken </script>
            <script type="application/ld+json">
              {"@context":"https://schema.org","@graph":[
                {"@type":"WebPage","name":"Kite page"},
                {"@type":["Thing","Product"],"name":"Stunt &amp; kite","image":[{"@type":"ImageObject","url":"/img/kite.jpg"}],
                 "offers":[{"@type":"Offer","price":"1234.50","priceCurrency":"EUR"},{"price":"1"}]}
              ]}
            </script>
            <meta property="og:title" content="OG title"><meta property="og:site_name" content="Kites Ltd">
            </head><body></body></html>"#,
        );
        assert_eq!(facts.title.as_deref(), Some("Stunt & kite"));
        assert_eq!(facts.price_cents, Some(123450));
        assert_eq!(facts.currency.as_deref(), Some("EUR"));
        assert_eq!(
            facts.image.as_deref(),
            Some("https://shop.example/img/kite.jpg")
        );
        assert_eq!(facts.site_name.as_deref(), Some("Kites Ltd"));
        assert!(!facts.walled);
    }

    #[test]
    fn open_graph_only() {
        let facts = page(
            r#"<head><meta property="og:title" content=" Red   scarf "><meta property="og:image" content="https://cdn.example/s.png">
            <meta property="product:price:amount" content="19.9"><meta property="product:price:currency" content="gbp"></head>"#,
        );
        assert_eq!(facts.title.as_deref(), Some("Red scarf"));
        assert_eq!(facts.price_cents, Some(1990));
        assert_eq!(facts.currency.as_deref(), Some("GBP"));
        assert_eq!(facts.image.as_deref(), Some("https://cdn.example/s.png"));
    }

    #[test]
    fn microdata_with_a_european_price() {
        let facts = page(
            r#"<div itemscope itemtype="https://schema.org/Product">
              <h1 itemprop="name">Teekanne</h1><img itemprop="image" src="tk.webp">
              <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
                <span itemprop="price">1.234,56 €</span></div></div>"#,
        );
        assert_eq!(facts.title.as_deref(), Some("Teekanne"));
        assert_eq!(facts.price_cents, Some(123456));
        assert_eq!(facts.currency.as_deref(), Some("EUR"));
        assert_eq!(
            facts.image.as_deref(),
            Some("https://shop.example/p/tk.webp")
        );
    }

    #[test]
    fn the_title_at_least_and_walls_are_seen() {
        let facts = page("<title>  Just a\n gift </title><p>hello</p>");
        assert_eq!(facts.title.as_deref(), Some("Just a gift"));
        assert!(!facts.walled);
        let wall =
            page(r#"<title>Robot Check</title><form action="/errors/validateCaptcha"></form>"#);
        assert!(wall.walled);
        let long = page(&format!("<title>{}</title>", "é".repeat(300)));
        assert!(long.title.unwrap().len() <= TITLE_MAX_BYTES);
        assert_eq!(page("").title, None);
        assert!(page(r#"<img src="javascript:alert(1)" itemprop="image">"#)
            .image
            .is_none());
    }
}
