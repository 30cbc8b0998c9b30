//! Discord's execute-webhook format and its limits, as plain data: the message and embed
//! objects, text cut to fit, the webhook URL (a secret), and what a 429 or the rate-limit
//! headers say about when to send next.
//!
//! Limits (Discord's documented ones): content 2000 characters, 10 embeds per message,
//! title 256, description 4096, 25 fields, field name 256, field value 1024, footer 2048,
//! and 6000 characters over every embed's title, description, field names and values and
//! footer together. Lengths are counted in UTF-16 units, which is never less than Discord's
//! count, so a message that fits here fits there.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub const CONTENT_MAX: usize = 2000;
pub const EMBEDS_MAX: usize = 10;
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
pub const EMBEDS_TOTAL_MAX: usize = 6000;

/// The longest wait a 429 may impose before we send again; a longer `retry_after` (a
/// global ban, a bad header) is capped, so the queue is looked at again within it.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(600);

/// Length as Discord limits it (UTF-16 units: a character outside the BMP counts 2).
pub fn text_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s` cut to at most `max` units, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if text_len(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        if used + ch.len_utf16() > max - 1 {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    out.push('…');
    out
}

/// Execute-webhook JSON (the body, or `payload_json` when a file is attached).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WebhookMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// Always "mention no one": a broker message or a stock name must never ping a channel.
    pub allowed_mentions: AllowedMentions,
    /// The files of the multipart request, by index (`files[0]` is id 0).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub id: u32,
    pub filename: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Embed {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub color: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// ISO 8601.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Footer {
    pub text: String,
}

/// `attachment://NAME` shows an attached file in the embed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Image {
    pub url: String,
}

impl Field {
    /// A field, cut to Discord's limits. An empty name or value is refused by Discord, so
    /// it becomes "-".
    pub fn new(name: &str, value: &str, inline: bool) -> Field {
        let or_dash = |s: &str| {
            if s.trim().is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        Field {
            name: truncate(&or_dash(name), FIELD_NAME_MAX),
            value: truncate(&or_dash(value), FIELD_VALUE_MAX),
            inline,
        }
    }
}

impl Embed {
    /// The characters this embed counts towards the 6000 of a message.
    pub fn len(&self) -> usize {
        text_len(&self.title)
            + self.description.as_deref().map_or(0, text_len)
            + self
                .fields
                .iter()
                .map(|f| text_len(&f.name) + text_len(&f.value))
                .sum::<usize>()
            + self.footer.as_ref().map_or(0, |f| text_len(&f.text))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Cuts every part to its limit, keeps the first 25 fields, then shortens the
    /// description (and if need be drops fields from the end) until the embed counts no more
    /// than `EMBEDS_TOTAL_MAX` on its own.
    pub fn clamped(mut self) -> Embed {
        self.title = truncate(&self.title, TITLE_MAX);
        self.description = self
            .description
            .map(|d| truncate(&d, DESCRIPTION_MAX))
            .filter(|d| !d.is_empty());
        self.fields.truncate(FIELDS_MAX);
        for f in &mut self.fields {
            *f = Field::new(&f.name, &f.value, f.inline);
        }
        if let Some(f) = &mut self.footer {
            f.text = truncate(&f.text, FOOTER_MAX);
        }
        while self.len() > EMBEDS_TOTAL_MAX {
            let over = self.len() - EMBEDS_TOTAL_MAX;
            match &self.description {
                Some(d) if text_len(d) > over + 1 => {
                    self.description = Some(truncate(d, text_len(d) - over));
                }
                _ if !self.fields.is_empty() => {
                    self.fields.pop();
                }
                _ => {
                    self.description = None;
                    self.footer = None;
                }
            }
        }
        self
    }
}

/// A limit a message breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("content of {0} characters (at most {CONTENT_MAX})")]
    Content(usize),
    #[error("{0} embeds (at most {EMBEDS_MAX})")]
    Embeds(usize),
    #[error("embed {index}: {what} of {len} (at most {max})")]
    Part {
        index: usize,
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("embeds total {0} characters (at most {EMBEDS_TOTAL_MAX})")]
    Total(usize),
    #[error("a message needs content, an embed or a file")]
    Empty,
}

impl WebhookMessage {
    /// Every embed's characters together.
    pub fn embeds_len(&self) -> usize {
        self.embeds.iter().map(Embed::len).sum()
    }

    /// Whether Discord would take this message, limit by limit.
    pub fn check(&self) -> Result<(), LimitError> {
        let content = self.content.as_deref().map_or(0, text_len);
        if content > CONTENT_MAX {
            return Err(LimitError::Content(content));
        }
        if self.embeds.len() > EMBEDS_MAX {
            return Err(LimitError::Embeds(self.embeds.len()));
        }
        if content == 0 && self.embeds.is_empty() && self.attachments.is_empty() {
            return Err(LimitError::Empty);
        }
        for (index, e) in self.embeds.iter().enumerate() {
            let part = |what, len, max| LimitError::Part {
                index,
                what,
                len,
                max,
            };
            if text_len(&e.title) > TITLE_MAX {
                return Err(part("title", text_len(&e.title), TITLE_MAX));
            }
            let d = e.description.as_deref().map_or(0, text_len);
            if d > DESCRIPTION_MAX {
                return Err(part("description", d, DESCRIPTION_MAX));
            }
            if e.fields.len() > FIELDS_MAX {
                return Err(part("fields", e.fields.len(), FIELDS_MAX));
            }
            for f in &e.fields {
                if text_len(&f.name) > FIELD_NAME_MAX {
                    return Err(part("field name", text_len(&f.name), FIELD_NAME_MAX));
                }
                if text_len(&f.value) > FIELD_VALUE_MAX {
                    return Err(part("field value", text_len(&f.value), FIELD_VALUE_MAX));
                }
            }
            let footer = e.footer.as_ref().map_or(0, |f| text_len(&f.text));
            if footer > FOOTER_MAX {
                return Err(part("footer", footer, FOOTER_MAX));
            }
        }
        let total = self.embeds_len();
        if total > EMBEDS_TOTAL_MAX {
            return Err(LimitError::Total(total));
        }
        Ok(())
    }
}

/// How long a 429 says to wait: the JSON body's `retry_after` (seconds, a float), else the
/// `Retry-After` header (seconds); `None` when neither reads as a non-negative number.
/// Capped at [`RETRY_AFTER_CAP`].
pub fn retry_after(header: Option<&str>, body: &[u8]) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct RateLimited {
        retry_after: f64,
    }
    let from_body = serde_json::from_slice::<RateLimited>(body)
        .ok()
        .map(|r| r.retry_after);
    let from_header = header.and_then(|h| h.trim().parse::<f64>().ok());
    let secs = from_body.or(from_header)?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(
        secs.min(RETRY_AFTER_CAP.as_secs_f64()),
    ))
}

/// After a delivered message: when `X-RateLimit-Remaining` is 0, wait
/// `X-RateLimit-Reset-After` seconds before the next one, instead of earning a 429.
pub fn bucket_wait(remaining: Option<&str>, reset_after: Option<&str>) -> Option<Duration> {
    if remaining?.trim() != "0" {
        return None;
    }
    let secs = reset_after?.trim().parse::<f64>().ok()?;
    (secs.is_finite() && secs > 0.0)
        .then(|| Duration::from_secs_f64(secs.min(RETRY_AFTER_CAP.as_secs_f64())))
}

/// Discord's error body (`{"message": …, "code": …}`) as one short line, for a log.
pub fn error_text(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct DiscordError {
        message: Option<String>,
        code: Option<i64>,
    }
    match serde_json::from_slice::<DiscordError>(body) {
        Ok(DiscordError {
            message: Some(m),
            code,
        }) => truncate(
            &format!(
                "{}{}",
                m,
                code.map_or_else(String::new, |c| format!(" (code {c})"))
            ),
            200,
        ),
        _ => truncate(String::from_utf8_lossy(body).trim(), 200),
    }
}

/// A Discord webhook URL. It carries the webhook's token, so it is a secret: `Debug` and
/// `Display` print `***`, and [`WebhookUrl::redact`] takes it out of any text.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(reqwest::Url);

/// Why a webhook URL was refused. Never quotes the URL: it holds the token.
pub type WebhookUrlError = crate::notify::UrlError;

impl WebhookUrl {
    /// An `https://` URL, or `http://` to a loopback address (a test server on this host).
    pub fn parse(s: &str) -> Result<WebhookUrl, WebhookUrlError> {
        crate::notify::https_or_loopback(s).map(WebhookUrl)
    }

    /// The URL itself: only for the request.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The host, which is not secret ("discord.com"), for a log line.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// `text` with the URL, and every path segment or query long enough to be the id or
    /// the token, replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(self.0.as_str(), "***");
        let mut secrets: Vec<&str> = self
            .0
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| s.len() >= 8)
            .collect();
        secrets.extend(self.0.query().filter(|q| !q.is_empty()));
        for s in secrets {
            out = out.replace(s, "***");
        }
        out
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789_-tokentokentoken";

    fn webhook() -> WebhookUrl {
        WebhookUrl::parse(&format!(
            "https://discord.com/api/webhooks/123456789012345678/{TOKEN}"
        ))
        .unwrap()
    }

    #[test]
    fn truncation_counts_utf16_and_marks_the_cut() {
        assert_eq!(truncate("삼성전자", 4), "삼성전자");
        assert_eq!(truncate("삼성전자", 3), "삼성…");
        assert_eq!(text_len("😀"), 2);
        assert_eq!(truncate("a😀b", 3), "a…", "a surrogate pair is never split");
        let long = "가".repeat(5000);
        assert_eq!(text_len(&truncate(&long, DESCRIPTION_MAX)), DESCRIPTION_MAX);
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn a_clamped_embed_fits_every_limit_on_its_own() {
        let e = Embed {
            title: "t".repeat(300),
            description: Some("d".repeat(5000)),
            fields: (0..30)
                .map(|i| Field::new(&format!("f{i}"), &"v".repeat(2000), false))
                .collect(),
            footer: Some(Footer {
                text: "f".repeat(3000),
            }),
            ..Embed::default()
        }
        .clamped();
        assert_eq!(text_len(&e.title), TITLE_MAX);
        assert!(e.fields.len() <= FIELDS_MAX);
        assert!(e
            .fields
            .iter()
            .all(|f| text_len(&f.value) <= FIELD_VALUE_MAX));
        assert!(e.len() <= EMBEDS_TOTAL_MAX, "{}", e.len());
        let m = WebhookMessage {
            embeds: vec![e],
            ..WebhookMessage::default()
        };
        assert_eq!(m.check(), Ok(()));
    }

    #[test]
    fn check_names_the_broken_limit() {
        let embed = |n: usize| Embed {
            title: "x".repeat(n),
            ..Embed::default()
        };
        let m = WebhookMessage {
            embeds: vec![embed(1); 11],
            ..WebhookMessage::default()
        };
        assert_eq!(m.check(), Err(LimitError::Embeds(11)));
        let m = WebhookMessage {
            embeds: vec![embed(250); 10],
            ..WebhookMessage::default()
        };
        assert_eq!(m.check(), Ok(()));
        let mut big = embed(200);
        big.description = Some("y".repeat(4000));
        let m = WebhookMessage {
            embeds: vec![big.clone(), big],
            ..WebhookMessage::default()
        };
        assert_eq!(m.check(), Err(LimitError::Total(8400)));
        let m = WebhookMessage {
            content: Some("c".repeat(2001)),
            ..WebhookMessage::default()
        };
        assert_eq!(m.check(), Err(LimitError::Content(2001)));
        assert_eq!(WebhookMessage::default().check(), Err(LimitError::Empty));
        let m = WebhookMessage {
            embeds: vec![embed(257)],
            ..WebhookMessage::default()
        };
        assert!(matches!(
            m.check(),
            Err(LimitError::Part { what: "title", .. })
        ));
    }

    #[test]
    fn the_json_is_discords_shape() {
        let m = WebhookMessage {
            content: Some("hi".into()),
            embeds: vec![Embed {
                title: "T".into(),
                color: 0xE74C3C,
                fields: vec![Field::new("Qty", "10", true)],
                timestamp: Some("2026-01-05T09:30:00+09:00".into()),
                image: Some(Image {
                    url: "attachment://equity.png".into(),
                }),
                ..Embed::default()
            }],
            attachments: vec![Attachment {
                id: 0,
                filename: "equity.png".into(),
            }],
            ..WebhookMessage::default()
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "content": "hi",
                "embeds": [{
                    "title": "T",
                    "color": 0xE74C3C,
                    "fields": [{"name": "Qty", "value": "10", "inline": true}],
                    "timestamp": "2026-01-05T09:30:00+09:00",
                    "image": {"url": "attachment://equity.png"}
                }],
                "allowed_mentions": {"parse": []},
                "attachments": [{"id": 0, "filename": "equity.png"}]
            })
        );
    }

    #[test]
    fn retry_after_reads_the_body_then_the_header() {
        let body =
            br#"{"message": "You are being rate limited.", "retry_after": 0.05, "global": false}"#;
        assert_eq!(
            retry_after(Some("1"), body),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            retry_after(Some("2"), b"<html>"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(None, b""), None);
        assert_eq!(retry_after(Some("-1"), b""), None);
        assert_eq!(
            retry_after(None, br#"{"retry_after": 1e9}"#),
            Some(RETRY_AFTER_CAP)
        );
    }

    #[test]
    fn an_exhausted_bucket_says_how_long_to_wait() {
        assert_eq!(
            bucket_wait(Some("0"), Some("0.25")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(bucket_wait(Some("3"), Some("0.25")), None);
        assert_eq!(bucket_wait(None, Some("0.25")), None);
        assert_eq!(bucket_wait(Some("0"), Some("x")), None);
    }

    #[test]
    fn discord_errors_read_as_one_line() {
        assert_eq!(
            error_text(br#"{"message": "Unknown Webhook", "code": 10015}"#),
            "Unknown Webhook (code 10015)"
        );
        assert_eq!(error_text(b"bad gateway\n"), "bad gateway");
    }

    #[test]
    fn webhook_urls_are_https_or_loopback_http_and_never_printed() {
        let w = webhook();
        assert_eq!(format!("{w} {w:?}"), "*** ***");
        assert_eq!(w.host(), "discord.com");
        assert!(w.expose().contains(TOKEN));
        assert!(WebhookUrl::parse("http://127.0.0.1:9/api/webhooks/1/x").is_ok());
        assert!(WebhookUrl::parse("http://[::1]:9/x").is_ok());
        assert!(WebhookUrl::parse("http://localhost:9/x").is_ok());
        assert_eq!(
            WebhookUrl::parse(&format!("http://discord.com/api/webhooks/1/{TOKEN}")),
            Err(WebhookUrlError::Insecure)
        );
        assert_eq!(
            WebhookUrl::parse("http://10.0.0.1/x"),
            Err(WebhookUrlError::Insecure)
        );
        assert_eq!(
            WebhookUrl::parse("ftp://discord.com/x"),
            Err(WebhookUrlError::Insecure)
        );
        assert_eq!(WebhookUrl::parse(TOKEN), Err(WebhookUrlError::NotAUrl));
        let e = WebhookUrl::parse(&format!("http://discord.com/{TOKEN}")).unwrap_err();
        assert!(!e.to_string().contains(TOKEN));
    }

    #[test]
    fn redact_takes_the_token_out_of_any_text() {
        let w = webhook();
        let text = format!(
            "error sending request for url ({}): refused; token {TOKEN}",
            w.expose()
        );
        let r = w.redact(&text);
        assert!(!r.contains(TOKEN), "{r}");
        assert!(!r.contains("123456789012345678"), "{r}");
        assert!(r.contains("refused"));
    }
}
