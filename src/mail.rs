//! Sending mail: over SMTP with `lettre` when `GIFTLIST_SMTP_URL` is set,
//! else written to the log (so a fresh install works, and whoever runs it
//! can pass a reset link on by hand).
//!
//! A mail never fails the request that wants it sent: it is queued, and a
//! background task sends it, trying again a few times with a growing pause
//! when the server is away or refuses; a mail that still cannot go is
//! logged (who to and what about, never its links) and dropped.

use std::time::Duration;

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::error::StartError;

/// One mail: plain text and simple HTML with the same content.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// A mail of a few paragraphs around at most one link, the plain text
    /// (wrapped at 72 columns, the link on a line of its own) and the HTML
    /// (every paragraph escaped) saying the same: each mail Giftlist
    /// sends is written once, as its words.
    pub fn compose(
        to: &str,
        subject: impl Into<String>,
        before_link: &[&str],
        link: Option<&str>,
        after_link: &[&str],
    ) -> Mail {
        let wrap = textwrap::Options::new(72).break_words(false);
        let mut text: Vec<String> = before_link
            .iter()
            .map(|p| textwrap::fill(p, &wrap))
            .collect();
        let mut html: Vec<String> = before_link
            .iter()
            .map(|p| format!("<p>{}</p>", escape(p)))
            .collect();
        if let Some(link) = link {
            text.push(link.to_owned());
            html.push(format!("<p><a href=\"{0}\">{0}</a></p>", escape(link)));
        }
        text.extend(after_link.iter().map(|p| textwrap::fill(p, &wrap)));
        html.extend(after_link.iter().map(|p| format!("<p>{}</p>", escape(p))));
        Mail {
            to: to.to_owned(),
            subject: subject.into(),
            text: text.join("\n\n") + "\n",
            html: html.concat(),
        }
    }
}

/// How many times a mail is tried in all.
const ATTEMPTS: u32 = 4;

/// Where queued mail goes, and how it is sent. Cheap to share.
#[derive(Debug)]
pub struct Mailer {
    queue: mpsc::UnboundedSender<Mail>,
    configured: bool,
}

/// The SMTP transport (none: mail goes to the log) and the sender, as the
/// settings give them.
fn transport_and_sender(
    smtp_url: Option<&str>,
    from: &str,
) -> Result<(Option<AsyncSmtpTransport<Tokio1Executor>>, Mailbox), StartError> {
    let sender: Mailbox = from.parse().map_err(|_| {
        StartError::Config(format!(
            "GIFTLIST_MAIL_FROM: {from:?} is not an address like \"Giftlist <gifts@example.org>\""
        ))
    })?;
    let transport = match smtp_url.map(str::trim).filter(|url| !url.is_empty()) {
        Some(url) => Some(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|_| {
                    // The URL may hold a password: not echoed.
                    StartError::Config(
                        "GIFTLIST_SMTP_URL is not an SMTP URL like smtp://user:pass@host:587"
                            .into(),
                    )
                })?
                .timeout(Some(Duration::from_secs(20)))
                .build(),
        ),
        None => None,
    };
    Ok((transport, sender))
}

impl Mailer {
    /// Checks the mail settings as [`Mailer::start`] reads them, without
    /// starting anything (`giftlist check-config`).
    pub fn check(smtp_url: Option<&str>, from: &str) -> Result<(), StartError> {
        transport_and_sender(smtp_url, from).map(drop)
    }

    /// Starts the sending task: over SMTP to `smtp_url` (`smtps://` for
    /// implicit TLS, `smtp://...?tls=required` for STARTTLS, plain
    /// `smtp://` only for a relay on the same machine; `user:pass@` for
    /// authentication), or to the log when there is none. `retry` is the first pause between
    /// attempts (doubling after each).
    pub fn start(
        smtp_url: Option<&str>,
        from: &str,
        retry: Duration,
    ) -> Result<Mailer, StartError> {
        let (transport, from) = transport_and_sender(smtp_url, from)?;
        let configured = transport.is_some();
        let (queue, mut queued) = mpsc::unbounded_channel::<Mail>();
        tokio::spawn(async move {
            while let Some(mail) = queued.recv().await {
                match &transport {
                    Some(transport) => send_with_retries(transport, &from, mail, retry).await,
                    None => log_instead(&mail),
                }
            }
        });
        Ok(Mailer { queue, configured })
    }

    /// Whether mail really goes out (else it is only logged).
    pub fn configured(&self) -> bool {
        self.configured
    }

    /// Queues `mail`; it is sent in the background.
    pub fn send(&self, mail: Mail) {
        if self.queue.send(mail).is_err() {
            warn!("the mail task has stopped; a mail was not sent");
        }
    }
}

/// Without SMTP the mail goes to the log, links and all: the zero-config
/// install's way to hand a reset link on.
fn log_instead(mail: &Mail) {
    info!(
        to = %mail.to,
        subject = %mail.subject,
        body = %mail.text,
        "mail is not configured (GIFTLIST_SMTP_URL): this mail was not sent"
    );
}

async fn send_with_retries(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    mail: Mail,
    first_pause: Duration,
) {
    let message = match build(from, &mail) {
        Ok(message) => message,
        Err(err) => {
            warn!(cause = %err, subject = %mail.subject, "a mail could not be written; not sent");
            return;
        }
    };
    let mut pause = first_pause;
    for attempt in 1..=ATTEMPTS {
        match transport.send(message.clone()).await {
            Ok(_) => {
                info!(subject = %mail.subject, attempt, "mail sent");
                return;
            }
            Err(err) if attempt < ATTEMPTS => {
                warn!(cause = %err, subject = %mail.subject, attempt, "sending a mail failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(err) => {
                warn!(cause = %err, subject = %mail.subject, attempts = ATTEMPTS, "a mail could not be sent; giving up");
            }
        }
    }
}

fn build(from: &Mailbox, mail: &Mail) -> Result<Message, lettre::error::Error> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| lettre::error::Error::MissingTo)?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.html.clone()),
                ),
        )
}

/// `text` made safe inside HTML.
fn escape(text: &str) -> String {
    html_escape::encode_quoted_attribute(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::Mail;

    #[test]
    fn a_composed_mail_says_the_same_in_text_and_html() {
        let mail = Mail::compose(
            "ann@example.org",
            "Hi",
            &["Hello <Ann>,", &"a long line of words ".repeat(8)],
            Some("https://gifts.example.org/x?a=1&b=2"),
            &["Bye."],
        );
        let lines: Vec<&str> = mail.text.lines().collect();
        assert_eq!(lines[0], "Hello <Ann>,");
        assert!(lines.iter().all(|line| line.len() <= 72), "{}", mail.text);
        assert!(mail
            .text
            .contains("\n\nhttps://gifts.example.org/x?a=1&b=2\n\nBye.\n"));
        assert!(mail.html.starts_with("<p>Hello &lt;Ann&gt;,</p>"));
        assert!(mail.html.contains(
            "<a href=\"https://gifts.example.org/x?a=1&amp;b=2\">https://gifts.example.org/x?a=1&amp;b=2</a>"
        ));
        assert!(mail.html.ends_with("<p>Bye.</p>"));
    }
}
