//! A small SMTP server for the tests: it speaks enough of RFC 5321 for a
//! real client (lettre, in the server under test) to deliver to it, and
//! hands each mail it receives to the test. It can also refuse mail (a 554
//! to `DATA`) to test what the sender does then.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
    sync::mpsc,
};

/// One mail as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body, transfer-encoded).
    pub data: String,
}

impl Received {
    /// The first link in the mail starting with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        // Quoted-printable may fold long lines with "=\r\n": unfold first.
        let text = self.data.replace("=\r\n", "").replace("=3D", "=");
        let start = text.find(prefix)?;
        let link: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "/:._-?=&%".contains(*c))
            .collect();
        Some(link)
    }
}

/// A running test SMTP server.
pub struct Smtp {
    pub port: u16,
    mails: mpsc::UnboundedReceiver<Received>,
    refuse: Arc<AtomicBool>,
}

impl Smtp {
    pub async fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (sender, mails) = mpsc::unbounded_channel();
        let refuse = Arc::new(AtomicBool::new(false));
        let refusing = refuse.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(converse(socket, sender.clone(), refusing.clone()));
            }
        });
        Smtp {
            port,
            mails,
            refuse,
        }
    }

    /// The URL the server under test sends to.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Whether `DATA` is refused (554) from now on.
    pub fn refuse(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }

    /// The next mail, within `wait`.
    pub async fn mail_within(&mut self, wait: std::time::Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.mails.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next mail, which must come within 10 s.
    pub async fn mail(&mut self) -> Received {
        self.mail_within(std::time::Duration::from_secs(10))
            .await
            .expect("a mail within 10 s")
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    mails: mpsc::UnboundedSender<Received>,
    refuse: Arc<AtomicBool>,
) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let reply = |text: &str| format!("{text}\r\n");
    if write
        .write_all(reply("220 test.invalid ESMTP").as_bytes())
        .await
        .is_err()
    {
        return;
    }
    let mut mail = Received {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250-test.invalid\r\n250 8BITMIME".to_owned()
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = line[10..].trim().to_owned();
            "250 OK".to_owned()
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(line[8..].trim().to_owned());
            "250 OK".to_owned()
        } else if upper == "DATA" {
            if refuse.load(Ordering::SeqCst) {
                "554 not today".to_owned()
            } else {
                if write
                    .write_all(reply("354 go on").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                    data.push_str("\r\n");
                }
                mail.data = data;
                let _ = mails.send(mail.clone());
                mail.to.clear();
                "250 OK queued".to_owned()
            }
        } else if upper == "RSET" || upper == "NOOP" {
            "250 OK".to_owned()
        } else if upper == "QUIT" {
            let _ = write.write_all(reply("221 bye").as_bytes()).await;
            return;
        } else {
            "502 not implemented".to_owned()
        };
        if write.write_all(reply(&answer).as_bytes()).await.is_err() {
            return;
        }
    }
}
