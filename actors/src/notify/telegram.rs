//! Telegram's Bot API as plain data: the bot (API URL, token, chat id: secrets), the
//! `sendMessage` and `sendPhoto` requests, the queue's front packed into one of them within
//! Telegram's limits, the pace Telegram allows, and what an answer (a 429's `retry_after`,
//! an error's `description`) says.
//!
//! Owns only rules; no I/O (the Notifier sends). Must never put the token or the chat id in
//! a `Debug`, a `Display` or an error (they print `***`, and [`TelegramBot::redact`] takes
//! them out of any text), and never send text Telegram's HTML parser could refuse: every
//! character of a notice is escaped, the only markup is our own `<b>`.
//!
//! Limits (Telegram's documented ones): message text 4096 characters and a photo's caption
//! 1024, both counted after entity parsing (the markup and escapes do not count). Lengths
//! are counted in UTF-16 units, never less than Telegram's count. Pace: about one message a
//! second to one chat, 20 a minute to a group; what arrives while we wait joins the next
//! message, as on Discord.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::notify::discord::{text_len, truncate, Embed, EMBEDS_MAX, RETRY_AFTER_CAP};
use crate::notify::outbox::{Carries, Entry};
use crate::notify::render::{
    self, COLOR_BUY, COLOR_KILL, COLOR_LINK_DOWN, COLOR_OK, COLOR_REJECT, COLOR_SELL,
    COLOR_STOPPED, COLOR_SUMMARY,
};
use crate::notify::{https_or_loopback, Names, Notice, Queued, UrlError};

pub const TEXT_MAX: usize = 4096;
pub const CAPTION_MAX: usize = 1024;
/// Where the Bot API is when nothing else is configured.
pub const DEFAULT_API: &str = "https://api.telegram.org";
/// The gap between messages to a private chat (about one a second).
pub const PRIVATE_CHAT_GAP: Duration = Duration::from_secs(1);
/// The gap between messages to a group or a channel (20 a minute).
pub const GROUP_CHAT_GAP: Duration = Duration::from_secs(3);
/// Most notices in their rich form in one message; more go as one line each (as on
/// Discord, whose 10 embeds set the same number, so both group a burst alike).
pub const RICH_MAX: usize = EMBEDS_MAX;
/// Room kept for the compact form's header ("📋 123 notices").
const HEADER_ROOM: usize = 32;

/// The Bot API's base URL (not a secret: `https://api.telegram.org`, or a local server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiUrl(reqwest::Url);

impl ApiUrl {
    /// `https://`, or `http://` to a loopback address (a Telegram-like server on this host).
    pub fn parse(s: &str) -> Result<ApiUrl, UrlError> {
        https_or_loopback(s).map(ApiUrl)
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }
}

/// A bot token (`123456789:AA…` from @BotFather). A secret: it is the bot's password, and
/// Telegram puts it in the URL path, so every URL that carries it is one too.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

/// Why a token or a chat id was refused. Never quotes the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    #[error("must look like @BotFather's token: digits, a colon, then letters, digits, - or _")]
    Token,
    #[error("must be a chat's number (-100… for a group or channel) or a channel's @username")]
    ChatId,
}

impl BotToken {
    pub fn parse(s: &str) -> Result<BotToken, TelegramError> {
        let s = s.trim();
        let (id, key) = s.split_once(':').ok_or(TelegramError::Token)?;
        let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if id_ok && key_ok {
            Ok(BotToken(s.to_owned()))
        } else {
            Err(TelegramError::Token)
        }
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the messages go: a chat's number (negative for groups and channels) or a public
/// channel's `@username`. Not a password, but it says who the trader is: never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatId(String);

impl ChatId {
    pub fn parse(s: &str) -> Result<ChatId, TelegramError> {
        let s = s.trim();
        // i64 parses a leading '+', which is no chat id.
        let numeric = !s.starts_with('+') && s.parse::<i64>().is_ok();
        let username = s.strip_prefix('@').is_some_and(|u| {
            (4..=32).contains(&u.len())
                && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && u.as_bytes()[0].is_ascii_alphabetic()
        });
        if numeric || username {
            Ok(ChatId(s.to_owned()))
        } else {
            Err(TelegramError::ChatId)
        }
    }

    /// A group, a supergroup or a channel (negative ids, @usernames): 20 messages a minute.
    pub fn is_group(&self) -> bool {
        self.0.starts_with('-') || self.0.starts_with('@')
    }

    /// The value itself: only for the request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// In the JSON body, a number as a number (as Telegram documents it), a @username as text.
impl Serialize for ChatId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(n) => s.serialize_i64(n),
            Err(_) => s.serialize_str(&self.0),
        }
    }
}

/// A bot and the chat it talks to. `Debug` and `Display` show only the API's host.
#[derive(Clone, PartialEq, Eq)]
pub struct TelegramBot {
    api: ApiUrl,
    token: BotToken,
    chat: ChatId,
}

impl TelegramBot {
    pub fn new(api: ApiUrl, token: BotToken, chat: ChatId) -> TelegramBot {
        TelegramBot { api, token, chat }
    }

    /// `{api}/bot{token}/{method}`: a secret, only for the request.
    pub fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.api.0.as_str().trim_end_matches('/'),
            self.token.0
        )
    }

    pub fn chat(&self) -> &ChatId {
        &self.chat
    }

    /// The API's host ("api.telegram.org"), for a log line.
    pub fn host(&self) -> &str {
        self.api.host()
    }

    /// How long to wait after a message before the next one to this chat.
    pub fn min_gap(&self) -> Duration {
        if self.chat.is_group() {
            GROUP_CHAT_GAP
        } else {
            PRIVATE_CHAT_GAP
        }
    }

    /// `text` with the token (whole, and its key alone) and the chat id replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&self.token.0, "***");
        if let Some((_, key)) = self.token.0.split_once(':') {
            out = out.replace(key, "***");
        }
        // A chat id this short would only be a test's; replacing it would garble numbers.
        if self.chat.0.trim_start_matches('-').len() >= 5 {
            out = out.replace(&self.chat.0, "***");
        }
        out
    }
}

impl fmt::Debug for TelegramBot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TelegramBot({}, ***)", self.host())
    }
}

impl fmt::Display for TelegramBot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// `sendMessage`'s JSON body.
#[derive(Debug, Serialize)]
pub struct SendMessage<'a> {
    pub chat_id: &'a ChatId,
    pub text: &'a str,
    pub parse_mode: &'static str,
}

/// The one markup we use. Every notice's text is escaped for it ([`escape`]).
pub const PARSE_MODE: &str = "HTML";

/// One request to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `sendMessage`, `text` in [`PARSE_MODE`].
    Message { text: String },
    /// `sendPhoto` with `photo` (a PNG) and `caption` in [`PARSE_MODE`].
    Photo { caption: String, png: Vec<u8> },
}

impl Request {
    pub fn method(&self) -> &'static str {
        match self {
            Request::Message { .. } => "sendMessage",
            Request::Photo { .. } => "sendPhoto",
        }
    }
}

/// One request built from the front of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    pub request: Request,
    pub entries: usize,
    pub notices: u64,
}

impl Carries for Packed {
    fn entries(&self) -> usize {
        self.entries
    }
}

/// Text for Telegram's HTML mode: `&`, `<` and `>` escaped (all the parser needs).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// HTML, and its length as Telegram counts it (the text the reader sees).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Text {
    html: String,
    len: usize,
}

impl Text {
    fn plain(&mut self, s: &str) {
        self.len += text_len(s);
        self.html.push_str(&escape(s));
    }

    fn bold(&mut self, s: &str) {
        self.len += text_len(s);
        self.html.push_str("<b>");
        self.html.push_str(&escape(s));
        self.html.push_str("</b>");
    }

    fn append(&mut self, other: &Text) {
        self.len += other.len;
        self.html.push_str(&other.html);
    }
}

/// The mark at the start of a notice, standing for Discord's embed colour: buying red and
/// selling blue, as Korean screens show them.
fn mark(color: u32) -> &'static str {
    match color {
        COLOR_BUY => "🔴",
        COLOR_SELL => "🔵",
        COLOR_REJECT => "🟠",
        COLOR_KILL => "🚨",
        COLOR_LINK_DOWN => "⚠️",
        COLOR_OK => "🟢",
        COLOR_STOPPED => "⚪",
        COLOR_SUMMARY => "📊",
        _ => "📋",
    }
}

/// A notice's rich form, from its Discord embed so both destinations say the same thing:
/// the title in bold, the description, a line per field. Cut to at most `max`.
fn block(e: &Embed, max: usize) -> Text {
    let head = format!("{} ", mark(e.color));
    let title = truncate(&e.title, max.saturating_sub(text_len(&head)));
    let mut t = Text::default();
    t.plain(&head);
    t.bold(&title);
    let mut rest: Vec<String> = e.description.iter().cloned().collect();
    rest.extend(e.fields.iter().map(|f| format!("{}: {}", f.name, f.value)));
    let room = max.saturating_sub(t.len + 1);
    if !rest.is_empty() && room > 0 {
        t.plain("\n");
        t.plain(&truncate(&rest.join("\n"), room));
    }
    t
}

/// The headline a push notification should show for an urgent notice.
fn headline(e: &Entry) -> Option<String> {
    match e {
        Entry::One(q) => render::headline(&q.notice),
        Entry::Digest(_) => None,
    }
}

/// Builds the next request from `entries` (the queue's front first); `None` when empty.
///
/// A daily summary goes alone: as a photo of its chart captioned with its figures, or as a
/// message when there is no chart. Otherwise as many notices as fit, in order: one block
/// each when everything waiting fits so (at most [`RICH_MAX`]), else one line each. The
/// first notice always goes, cut to fit, so the queue never stalls.
pub fn pack(entries: &[Entry], names: &Names) -> Option<Packed> {
    let first = entries.first()?;
    if let Entry::One(Queued {
        notice: Notice::Summary(_, chart),
        ..
    }) = first
    {
        let e = first.embed(names);
        let request = match chart {
            Some(png) => Request::Photo {
                caption: block(&e, CAPTION_MAX).html,
                png: png.clone(),
            },
            None => Request::Message {
                text: block(&e, TEXT_MAX).html,
            },
        };
        return Some(Packed {
            request,
            entries: 1,
            notices: 1,
        });
    }
    // A summary further on waits for its own request.
    let limit = entries
        .iter()
        .position(Entry::is_summary)
        .unwrap_or(entries.len());
    let window = &entries[..limit];
    let (rich, rich_taken) = rich(window, names);
    let (compact, compact_taken) = compact(window, names);
    let (text, taken) = if rich_taken >= compact_taken {
        (rich, rich_taken)
    } else {
        (compact, compact_taken)
    };
    Some(Packed {
        request: Request::Message { text: text.html },
        entries: taken,
        notices: window[..taken].iter().map(Entry::notices).sum(),
    })
}

/// Headlines first (a push notification shows the start), a blank line, then `body`.
fn with_headlines(headlines: &[String], body: Text) -> Text {
    if headlines.is_empty() {
        return body;
    }
    let mut t = Text::default();
    t.plain(&headlines.join("\n"));
    t.plain("\n\n");
    t.append(&body);
    t
}

/// The cost of `headlines` at the top of a message.
fn headlines_len(headlines: &[String]) -> usize {
    match headlines.len() {
        0 => 0,
        _ => headlines.iter().map(|h| text_len(h) + 1).sum::<usize>() + 1,
    }
}

/// One block per entry, with how many entries it carries. The first entry's own title
/// leads the message, so only urgent notices after it get a headline.
fn rich(window: &[Entry], names: &Names) -> (Text, usize) {
    let mut blocks: Vec<Text> = Vec::new();
    let mut headlines: Vec<String> = Vec::new();
    let mut body = 0;
    for e in window.iter().take(RICH_MAX) {
        if blocks.is_empty() {
            blocks.push(block(&e.embed(names), TEXT_MAX));
            body = blocks[0].len;
            continue;
        }
        let b = block(&e.embed(names), TEXT_MAX);
        let mut with = headlines.clone();
        with.extend(headline(e));
        if headlines_len(&with) + body + 2 + b.len > TEXT_MAX {
            break;
        }
        headlines = with;
        body += 2 + b.len;
        blocks.push(b);
    }
    let taken = blocks.len();
    let mut t = Text::default();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            t.plain("\n\n");
        }
        t.append(b);
    }
    (with_headlines(&headlines, t), taken)
}

/// One line per entry under a count, as many as fit, with how many entries it carries.
fn compact(window: &[Entry], names: &Names) -> (Text, usize) {
    let mut lines: Vec<String> = Vec::new();
    let mut headlines: Vec<String> = Vec::new();
    let mut body = HEADER_ROOM;
    for e in window {
        // A line is at most render::LINE_MAX: the first always fits.
        let line = e.line(names);
        let mut with = headlines.clone();
        with.extend(headline(e));
        let cost = text_len(&line) + 1;
        if !lines.is_empty() && headlines_len(&with) + body + cost > TEXT_MAX {
            break;
        }
        headlines = with;
        body += cost;
        lines.push(line);
    }
    let taken = lines.len();
    let carried = &window[..taken];
    let notices: u64 = carried.iter().map(Entry::notices).sum();
    let all_fills = carried.iter().all(|e| {
        matches!(
            e,
            Entry::One(Queued {
                notice: Notice::Fill(_),
                ..
            })
        )
    });
    let mut t = Text::default();
    t.plain(&format!("{} ", mark(0)));
    t.bold(&if all_fills {
        format!("{taken} fills")
    } else {
        format!("{notices} notices")
    });
    t.plain("\n");
    t.plain(&lines.join("\n"));
    (with_headlines(&headlines, t), taken)
}

/// What an answer from the Bot API comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// 429: wait this long (when the answer said) and send again.
    TooManyRequests(Option<Duration>),
    /// 5xx: the same request may pass later.
    ServerError(String),
    /// Another error (a wrong token, an unknown chat, a bot blocked by the user): this
    /// request will never pass.
    Refused(String),
}

/// Reads an answer: the HTTP status, the `Retry-After` header, and the body
/// (`{"ok":false,"error_code":429,"description":…,"parameters":{"retry_after":N}}`). The
/// body's `error_code` wins over the status when they differ; `retry_after` (seconds) over
/// the header. Error texts are `HTTP 400: Bad Request: chat not found`, and never quote
/// the body's `parameters` (a migrated chat's new id is there).
pub fn answer(status: u16, retry_after_header: Option<&str>, body: &[u8]) -> Answer {
    #[derive(serde::Deserialize)]
    struct Parameters {
        retry_after: Option<f64>,
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        ok: Option<bool>,
        error_code: Option<u16>,
        description: Option<String>,
        parameters: Option<Parameters>,
    }
    let reply = serde_json::from_slice::<Reply>(body).ok();
    let ok = reply.as_ref().and_then(|r| r.ok);
    if (200..300).contains(&status) && ok != Some(false) {
        return Answer::Delivered;
    }
    let code = reply
        .as_ref()
        .and_then(|r| r.error_code)
        .filter(|c| *c >= 400)
        .unwrap_or(status);
    if code == 429 {
        let from_body = reply
            .as_ref()
            .and_then(|r| r.parameters.as_ref())
            .and_then(|p| p.retry_after);
        let from_header = retry_after_header.and_then(|h| h.trim().parse::<f64>().ok());
        let wait = from_body
            .or(from_header)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(RETRY_AFTER_CAP.as_secs_f64())));
        return Answer::TooManyRequests(wait);
    }
    let said = match reply.and_then(|r| r.description) {
        Some(d) => d,
        None => String::from_utf8_lossy(body).trim().to_owned(),
    };
    let why = truncate(&format!("HTTP {code}: {}", said.trim()), 200);
    if code >= 500 {
        Answer::ServerError(why)
    } else {
        Answer::Refused(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TradingDay;
    use crate::domain::OrderNo;
    use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
    use crate::messages::{FillAlert, OrderType, RejectAlert, RejectCause};
    use crate::notify::outbox::Outbox;
    use crate::notify::summary::{summarize, DayBook};

    const TOKEN: &str = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
    const AT: i64 = 1_767_573_000_000;

    fn bot(chat: &str) -> TelegramBot {
        TelegramBot::new(
            ApiUrl::parse(DEFAULT_API).unwrap(),
            BotToken::parse(TOKEN).unwrap(),
            ChatId::parse(chat).unwrap(),
        )
    }

    fn fill(n: i64) -> Entry {
        Entry::One(Queued {
            at_unix_ms: AT + n,
            notice: Notice::Fill(FillAlert {
                ticker: Ticker::parse("005930").unwrap(),
                side: if n % 2 == 0 { Side::Buy } else { Side::Sell },
                qty: Qty::lit(10),
                price: Price::lit(55_000),
                order_no: OrderNo(1_000 + n),
                time: TimeOfDay::hms(9, 30, 0),
                fee: 0,
                position_after: Qty::lit(10),
                avg_price: Some(Price::lit(55_000)),
                realized_pnl: 100,
                ticker_realized_pnl: 100,
                equity: Some(100_000_000),
            }),
        })
    }

    fn reject(message: &str) -> Entry {
        Entry::One(Queued {
            at_unix_ms: AT,
            notice: Notice::Reject(RejectAlert {
                id: None,
                ticker: Ticker::parse("000660").unwrap(),
                side: Side::Buy,
                qty: Qty::lit(1),
                order_type: OrderType::Market,
                reason: "entry: momentum".into(),
                cause: RejectCause::Broker {
                    code: "90009".into(),
                    message: message.into(),
                },
            }),
        })
    }

    fn summary(chart: Option<Vec<u8>>) -> Entry {
        let s = summarize(
            &DayBook::new(TradingDay::new(2026, 1, 5).unwrap()),
            None,
            None,
        );
        Entry::One(Queued {
            at_unix_ms: AT,
            notice: Notice::Summary(Box::new(s), chart),
        })
    }

    fn names() -> Names {
        [(Ticker::parse("005930").unwrap(), "삼성전자".to_owned())].into()
    }

    /// The text a reader sees: our markup removed, escapes undone.
    fn seen(html: &str) -> String {
        html.replace("<b>", "")
            .replace("</b>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    fn text(p: &Packed) -> &str {
        match &p.request {
            Request::Message { text } => text,
            Request::Photo { .. } => panic!("a message expected"),
        }
    }

    fn order_numbers(s: &str) -> Vec<i64> {
        s.split('#')
            .skip(1)
            .filter_map(|r| {
                let d: String = r.chars().take_while(char::is_ascii_digit).collect();
                d.parse().ok()
            })
            .collect()
    }

    #[test]
    fn tokens_and_chat_ids_are_checked_and_never_printed() {
        assert!(BotToken::parse(TOKEN).is_ok());
        for bad in [
            "", "AAHdq", ":AAH", "123:", "12a:AAH", "123:AA/H", "123:AA H",
        ] {
            assert_eq!(BotToken::parse(bad), Err(TelegramError::Token), "{bad:?}");
        }
        assert!(!TelegramError::Token.to_string().contains(TOKEN));
        for good in ["123456789", "-1001234567890", "@condor_alerts"] {
            assert!(ChatId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-",
            "12x",
            "@ab",
            "@1abc",
            "@a-bc",
            "99999999999999999999",
        ] {
            assert_eq!(ChatId::parse(bad), Err(TelegramError::ChatId), "{bad:?}");
        }
        let b = bot("-1001234567890");
        let shown = format!("{b} {b:?} {:?} {:?}", b.token, b.chat);
        assert!(
            !shown.contains(TOKEN) && !shown.contains("1001234567890"),
            "{shown}"
        );
        assert!(shown.contains("api.telegram.org"));
        assert_eq!(
            b.method_url("sendMessage"),
            format!("https://api.telegram.org/bot{TOKEN}/sendMessage")
        );
        // A base with a path (a proxy) and a trailing slash.
        let proxied = TelegramBot::new(
            ApiUrl::parse("http://127.0.0.1:8081/tg/").unwrap(),
            BotToken::parse(TOKEN).unwrap(),
            ChatId::parse("42").unwrap(),
        );
        assert_eq!(
            proxied.method_url("sendPhoto"),
            format!("http://127.0.0.1:8081/tg/bot{TOKEN}/sendPhoto")
        );
        assert_eq!(
            ApiUrl::parse("http://api.telegram.org"),
            Err(UrlError::Insecure)
        );
    }

    #[test]
    fn redact_takes_the_token_and_the_chat_out_of_any_text() {
        let b = bot("-1001234567890");
        let key = TOKEN.split_once(':').unwrap().1;
        let t = format!(
            "error sending request for url ({}): chat -1001234567890; key {key}",
            b.method_url("sendMessage")
        );
        let r = b.redact(&t);
        assert!(!r.contains(key) && !r.contains("1001234567890"), "{r}");
        assert!(r.contains("error sending request"));
    }

    #[test]
    fn the_pace_is_telegrams() {
        assert_eq!(bot("123456789").min_gap(), PRIVATE_CHAT_GAP);
        assert_eq!(bot("-1001234567890").min_gap(), GROUP_CHAT_GAP);
        assert_eq!(bot("@condor_alerts").min_gap(), GROUP_CHAT_GAP);
    }

    #[test]
    fn the_json_is_telegrams_shape() {
        let b = bot("-1001234567890");
        let v = serde_json::to_value(SendMessage {
            chat_id: b.chat(),
            text: "hi",
            parse_mode: PARSE_MODE,
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"chat_id": -1001234567890i64, "text": "hi", "parse_mode": "HTML"})
        );
        let b = bot("@condor_alerts");
        let v = serde_json::to_value(SendMessage {
            chat_id: b.chat(),
            text: "",
            parse_mode: PARSE_MODE,
        })
        .unwrap();
        assert_eq!(v["chat_id"], "@condor_alerts");
    }

    #[test]
    fn a_few_notices_go_as_one_block_each() {
        let q = [fill(0), fill(1), fill(2)];
        let p = pack(&q, &names()).unwrap();
        assert_eq!((p.entries, p.notices), (3, 3));
        let t = text(&p);
        assert!(
            t.starts_with("🔴 <b>BUY 10 005930 삼성전자 @ 55,000</b>\nQty: 10 sh\n"),
            "{t}"
        );
        assert!(t.contains("\n\n🔵 <b>SELL 10 005930 삼성전자 @ 55,000</b>\n"));
        assert_eq!(order_numbers(t), [1000, 1001, 1002]);
    }

    #[test]
    fn broker_text_is_escaped_and_the_markup_is_ours() {
        let q = [reject("<b>주문</b> & <script>")];
        let t = text(&pack(&q, &names()).unwrap()).to_owned();
        assert!(
            t.contains("&lt;b&gt;주문&lt;/b&gt; &amp; &lt;script&gt;"),
            "{t}"
        );
        assert_eq!(t.matches("<b>").count(), 1);
        assert_eq!(t.matches("</b>").count(), 1);
        assert!(seen(&t).contains("<b>주문</b> & <script>"));
    }

    #[test]
    fn a_burst_is_coalesced_into_as_few_messages_as_fit_in_order() {
        let mut q: Vec<Entry> = (0..500).map(fill).collect();
        let (mut messages, mut seen_numbers) = (0, Vec::new());
        while let Some(p) = pack(&q, &names()) {
            let t = text(&p);
            assert!(text_len(&seen(t)) <= TEXT_MAX, "within the limit");
            if p.entries < q.len() {
                assert!(p.entries > RICH_MAX, "lines, not blocks: {}", p.entries);
                assert!(t.starts_with(&format!("📋 <b>{} fills</b>\n", p.entries)));
            }
            seen_numbers.extend(order_numbers(t));
            q.drain(..p.entries);
            messages += 1;
        }
        assert_eq!(seen_numbers, (1000..1500).collect::<Vec<_>>());
        // A line is about 85 characters: about 48 fit in 4096.
        assert!(messages <= 12, "{messages} messages for 500 fills");
    }

    #[test]
    fn huge_texts_are_cut_to_fit_and_never_stall_the_queue() {
        let mut q = vec![
            reject(&"가&".repeat(9_000)),
            reject(&"<".repeat(9_000)),
            fill(1),
        ];
        let mut n = 0;
        while let Some(p) = pack(&q, &names()) {
            assert!(p.entries >= 1, "progress every message");
            assert!(text_len(&seen(text(&p))) <= TEXT_MAX);
            q.drain(..p.entries);
            n += 1;
        }
        assert!(n <= 3);
    }

    #[test]
    fn urgent_notices_after_the_first_lead_the_message() {
        let down = Entry::One(Queued {
            at_unix_ms: AT,
            notice: Notice::LinkDown {
                down_for: Duration::from_secs(12),
            },
        });
        let t = text(&pack(&[fill(0), down.clone()], &names()).unwrap()).to_owned();
        assert!(
            t.starts_with("⚠️ condor: broker link down for 12 s\n\n🔴 <b>BUY"),
            "{t}"
        );
        // First in its message: its own title leads, said once.
        let t = text(&pack(&[down], &names()).unwrap()).to_owned();
        assert!(t.starts_with("⚠️ <b>Broker link down for 12 s</b>"), "{t}");
    }

    #[test]
    fn a_summary_goes_alone_as_a_photo_captioned_with_its_figures() {
        let png = vec![0x89, b'P', b'N', b'G'];
        let q = [fill(1), summary(Some(png.clone())), fill(2)];
        let p = pack(&q, &names()).unwrap();
        assert_eq!(
            p.entries, 1,
            "the fill before the summary goes first, alone"
        );
        let p = pack(&q[1..], &names()).unwrap();
        assert_eq!(p.entries, 1);
        let Request::Photo { caption, png: sent } = &p.request else {
            panic!("a photo expected: {p:?}")
        };
        assert_eq!(sent, &png);
        assert_eq!(p.request.method(), "sendPhoto");
        assert!(
            caption.starts_with("📊 <b>Daily summary 2026-01-05</b>\nNet P&amp;L 0 won\n"),
            "{caption}"
        );
        assert!(caption.contains("Max drawdown: 0 won (0.00%)"));
        assert!(
            caption.ends_with("Ack → fill: -"),
            "the figures fit whole: {caption}"
        );
        assert!(text_len(&seen(caption)) <= CAPTION_MAX);
        // No chart: the same figures as a message.
        let p = pack(&[summary(None)], &names()).unwrap();
        assert_eq!(p.request.method(), "sendMessage");
        assert!(text(&p).contains("Win rate: - (no round trip closed)"));
    }

    #[test]
    fn an_outbox_carries_telegrams_packing() {
        let mut o = Outbox::new(1_000);
        for n in 0..3 {
            o.push(match fill(n) {
                Entry::One(q) => q,
                Entry::Digest(_) => unreachable!(),
            });
        }
        let p = o.begin_with(|e| pack(e, &names())).unwrap();
        assert_eq!(p.entries, 3);
        assert!(
            o.begin_with(|e| pack(e, &names())).is_none(),
            "one out at a time"
        );
        assert_eq!(o.delivered(), 3);
    }

    #[test]
    fn answers_read_as_telegram_means_them() {
        assert_eq!(
            answer(200, None, br#"{"ok":true,"result":{}}"#),
            Answer::Delivered
        );
        assert_eq!(
            answer(
                429,
                Some("9"),
                br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#
            ),
            Answer::TooManyRequests(Some(Duration::from_secs(5)))
        );
        assert_eq!(
            answer(429, Some("2"), b"<html>"),
            Answer::TooManyRequests(Some(Duration::from_secs(2)))
        );
        assert_eq!(answer(429, None, b""), Answer::TooManyRequests(None));
        assert_eq!(
            answer(
                429,
                None,
                br#"{"ok":false,"parameters":{"retry_after":1e12}}"#
            ),
            Answer::TooManyRequests(Some(RETRY_AFTER_CAP))
        );
        assert_eq!(
            answer(
                400,
                None,
                br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#
            ),
            Answer::Refused("HTTP 400: Bad Request: chat not found".into())
        );
        assert_eq!(
            answer(502, None, b"bad gateway\n"),
            Answer::ServerError("HTTP 502: bad gateway".into())
        );
        // 200 that says it failed: the body's code counts.
        assert_eq!(
            answer(
                200,
                None,
                br#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#
            ),
            Answer::Refused("HTTP 401: Unauthorized".into())
        );
        let migrated = answer(
            400,
            None,
            br#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876543210}}"#,
        );
        assert!(!format!("{migrated:?}").contains("9876543210"));
    }
}
