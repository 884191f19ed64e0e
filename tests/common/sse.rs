//! Server-sent events read the way a browser's `EventSource` reads them:
//! records split at blank lines, every `data` checked by the validator.

use serde_json::Value;

/// A reader of an SSE response: records, and the comments between them.
pub struct SseReader {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

/// One record: its fields, and the comment lines (keep-alives) in it.
#[derive(Debug, Default, PartialEq)]
pub struct Record {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<Value>,
    pub comments: Vec<String>,
}

impl SseReader {
    /// Checks that `response` is an event stream and starts reading it.
    pub fn new(response: reqwest::Response) -> SseReader {
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        SseReader {
            body: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next record (a block ending in a blank line), within 5 s; `None`
    /// when the stream ends.
    pub async fn next(&mut self) -> Option<Record> {
        use futures::StreamExt;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut record = Record::default();
                for line in block.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        record.comments.push(comment.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "id" => record.id = Some(value),
                            "event" => record.event = Some(value),
                            "data" => {
                                let data: Value = serde_json::from_str(&value).unwrap();
                                super::ws::check_frame(&data);
                                record.data = Some(data);
                            }
                            other => panic!("unexpected SSE field {other}"),
                        }
                    }
                }
                return Some(record);
            }
            let chunk = tokio::time::timeout(super::ws::WAIT, self.body.next())
                .await
                .expect("an SSE record within 5 s")?
                .ok()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next record that is not only a keep-alive comment.
    pub async fn next_event(&mut self) -> Option<Record> {
        loop {
            let record = self.next().await?;
            if record.event.is_some() || record.data.is_some() {
                return Some(record);
            }
        }
    }
}
