//! Kiwoom Securities' REST + websocket API, the wire formats condor speaks to its second
//! broker (`api.kiwoom.com`, paper `mockapi.kiwoom.com`), with encoders and decoders for
//! both directions (the client's requests and frames, the server's replies and pushes, so
//! the simulator's Kiwoom mode reuses them) and the parse of what arrives into condor's
//! domain model. `protocol/kiwoom-rest.md` is the reference; field names, codes, paths
//! and header names here are copied from it verbatim, and every choice made where it says
//! UNCONFIRMED is marked so at its spot.
//!
//! Owns the bytes-to-types boundary and nothing else: no I/O, no clocks, no actor state,
//! no policy (when to renew a token, how fast to call, whether an order is wise). Must
//! never panic on input, never reject a reply or frame for an unknown or reordered field,
//! and never turn money into a float. A shape that cannot be read is a [`WireError`]
//! (shared with the LS formats, it names the TR or frame, the field and the value); a
//! well-formed "no" from Kiwoom is a [`rest::Refusal`], classified by §6's codes.
//!
//! Files: [`num`] (Kiwoom's numbers: signed, zero-padded, direction-marked text),
//! [`token`] (au10001/au10002), [`rest`] (the envelope, the [`rest::Tr`] trait, the error
//! classes and inner codes, paging), [`order`] (kt10000–kt10003), [`account`] (kt00001,
//! kt00018, ka10075, ka10076, kt00007, ka00001), [`market_data`] (ka10001, ka10099,
//! ka10100), [`realtime`] (websocket frames: LOGIN, PING, REG/REMOVE, REAL 0B/00/04/02,
//! CNSRLST/CNSRREQ/CNSRCLR, SYSTEM).
//!
//! Kiwoom sends every value but `return_code` as a JSON string. The structs here hold
//! them as `String`s exactly as received (so a frame re-encodes as it came), read a JSON
//! number or `null` there too (as text), and turn them into domain types in accessors
//! whose errors name the field.

use crate::market::Ticker;

pub use crate::wire::WireError;

/// Declares a struct of Kiwoom text fields: every field a `String`, absent → `""`, a JSON
/// number or `null` read as text (see [`crate::wire::num::text`]), written as a string.
/// Optional extra fields (lists) follow a `;` and are written as given.
///
/// It reads a JSON **object** only. serde's derive would also fill a struct from an
/// array, by position: a `values` list (the spec's table calls it LIST; every sample is
/// an object) would then be misread field by field instead of refused.
macro_rules! text_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident
            ),* $(,)?
            $(
                ;
                $(
                    $(#[$xmeta:meta])*
                    $xfield:ident : $xty:ty
                ),* $(,)?
            )?
        }
    ) => {
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, with = "crate::wire::num::text")]
                pub $field: String,
            )*
            $($(
                $(#[$xmeta])*
                pub $xfield: $xty,
            )*)?
        }

        const _: () = {
            #[derive(serde::Deserialize)]
            $(#[$meta])*
            struct Shadow {
                $(
                    $(#[$fmeta])*
                    #[serde(default, with = "crate::wire::num::text")]
                    $field: String,
                )*
                $($(
                    $(#[$xmeta])*
                    $xfield: $xty,
                )*)?
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                    struct V;
                    impl<'de> serde::de::Visitor<'de> for V {
                        type Value = $name;
                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str("a JSON object of text fields")
                        }
                        fn visit_map<A: serde::de::MapAccess<'de>>(
                            self,
                            map: A,
                        ) -> Result<$name, A::Error> {
                            let s = <Shadow as serde::Deserialize>::deserialize(
                                serde::de::value::MapAccessDeserializer::new(map),
                            )?;
                            Ok($name {
                                $($field: s.$field,)*
                                $($($xfield: s.$xfield,)*)?
                            })
                        }
                    }
                    d.deserialize_map(V)
                }
            }
        };
    };
}

pub mod account;
pub mod market_data;
pub mod num;
pub mod order;
pub mod realtime;
pub mod rest;
pub mod token;

pub use realtime::{decode_client_frame, decode_server_frame, ClientFrame, ServerFrame};
pub use rest::{decode_reply, decode_request, encode_reply, encode_request, Refusal, Reply, Tr};

/// REST host of the real server.
pub const REAL_REST_URL: &str = "https://api.kiwoom.com";
/// REST host of the paper (모의투자) server: KRX only, its own key pairs.
pub const PAPER_REST_URL: &str = "https://mockapi.kiwoom.com";
/// Websocket URL of the real server (port 10000).
pub const REAL_WS_URL: &str = "wss://api.kiwoom.com:10000/api/dostk/websocket";
/// Websocket URL of the paper server.
pub const PAPER_WS_URL: &str = "wss://mockapi.kiwoom.com:10000/api/dostk/websocket";
/// The websocket path, on any host.
pub const WS_PATH: &str = "/api/dostk/websocket";

/// Paper-server messages carry this (e.g. `"모의투자 조회완료"`).
pub const PAPER_MARKER: &str = "모의투자";

/// True when a `return_msg` comes from the paper server.
pub fn is_paper_message(return_msg: &str) -> bool {
    return_msg.contains(PAPER_MARKER)
}

/// What went wrong with one Kiwoom exchange: bytes that could not be read, or a
/// well-formed refusal from Kiwoom.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KiwoomError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Reads a Kiwoom stock code into a [`Ticker`] (§3.5): trims, drops one `_NX`/`_AL`
/// suffix (NXT / SOR routing) and one leading product letter of a seven-character code
/// (`A005930` stock, `J` ELW, `Q` ETN). `None` when what remains is not six digits.
///
/// Note: KRX's newer alphanumeric short codes (`0004V0`, seen in condition captures) are
/// not six digits and are refused here; [`Ticker`] holds digits only.
pub fn parse_code(text: &str) -> Option<Ticker> {
    let t = text.trim_ascii();
    let t = t
        .strip_suffix("_NX")
        .or_else(|| t.strip_suffix("_AL"))
        .unwrap_or(t);
    let t = match t.as_bytes() {
        [first, rest @ ..] if rest.len() == 6 && first.is_ascii_alphabetic() => &t[1..],
        _ => t,
    };
    Ticker::parse(t).ok()
}

/// [`parse_code`] for a field, naming the TR or frame, the field and the value.
pub(crate) fn ticker_field(
    what: &str,
    field: &'static str,
    value: &str,
) -> Result<Ticker, WireError> {
    if value.trim_ascii().is_empty() {
        return Err(WireError::missing(what, field));
    }
    parse_code(value).ok_or_else(|| {
        WireError::bad_value(
            what,
            field,
            value,
            "a six-digit code, optionally with a product letter (A005930) or _NX/_AL",
        )
    })
}

/// The bare six-digit code requests take (`"005930"`: KRX).
pub fn stock_code(ticker: Ticker) -> String {
    ticker.as_str().to_owned()
}

/// The product-prefixed code account TRs and condition search reply with (`"A005930"`).
pub fn product_code(ticker: Ticker) -> String {
    format!("A{}", ticker.as_str())
}

/// Refuses a body or frame that is not a JSON object before a typed read (serde's derive
/// would fill a struct from an array by position): not JSON → `NotJson`, other JSON →
/// `Malformed` naming what was expected.
pub(crate) fn require_object(what: &str, text: &str) -> Result<(), WireError> {
    if text.trim_start().starts_with('{') {
        return Ok(());
    }
    Err(
        WireError::not_json(what, text).unwrap_or_else(|| WireError::Malformed {
            what: what.to_owned(),
            detail: "expected a JSON object".to_owned(),
        }),
    )
}

/// A list that Kiwoom may send as `null` (an empty condition snapshot): `null` → empty.
pub(crate) fn list_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the Kiwoom tests: JSON comparison and a seeded generator of
    //! hostile text.

    use serde_json::Value;

    /// Every key of `sample` is in `encoded` with the same value (recursively; arrays
    /// element by element): an encoder writes at least what Kiwoom sent, with the same
    /// names and the same text.
    pub fn assert_covers(encoded: &str, sample: &str) {
        let e: Value = serde_json::from_str(encoded).expect("encoded JSON");
        let s: Value = serde_json::from_str(sample).expect("sample JSON");
        if let Err(path) = covers(&e, &s, String::new()) {
            panic!("{path}\nencoded: {encoded}\nsample:  {sample}");
        }
    }

    fn covers(e: &Value, s: &Value, path: String) -> Result<(), String> {
        match (e, s) {
            (Value::Object(e), Value::Object(s)) => {
                for (k, sv) in s {
                    let p = format!("{path}.{k}");
                    let ev = e.get(k).ok_or_else(|| format!("{p}: missing"))?;
                    covers(ev, sv, p)?;
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(s)) if e.len() == s.len() => e
                .iter()
                .zip(s)
                .enumerate()
                .try_for_each(|(i, (ev, sv))| covers(ev, sv, format!("{path}[{i}]"))),
            _ if e == s => Ok(()),
            _ => Err(format!("{path}: {e} != {s}")),
        }
    }

    /// xorshift64*: a seeded, dependency-free source of test noise.
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(seed.max(1))
        }

        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        pub fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        /// Random text from an alphabet rich in what breaks number and JSON readers.
        pub fn text(&mut self, max_len: usize) -> String {
            const PIECES: &[&str] = &[
                "0",
                "1",
                "9",
                "+",
                "-",
                ".",
                ",",
                " ",
                "A",
                "_NX",
                "_AL",
                "\"",
                "{",
                "}",
                "[",
                "]",
                ":",
                "null",
                "e",
                "\\",
                "\\u0000",
                "\\ud800",
                "가",
                "매수",
                "취소",
                "x",
                "99999999999999999999",
                "-0",
                "00000000",
            ];
            let n = self.below(max_len + 1);
            (0..n).map(|_| PIECES[self.below(PIECES.len())]).collect()
        }

        /// `sample` with a few random edits: cuts, insertions, swaps of pieces.
        pub fn mutate(&mut self, sample: &str) -> String {
            let mut chars: Vec<char> = sample.chars().collect();
            for _ in 0..=self.below(4) {
                if chars.is_empty() {
                    break;
                }
                let at = self.below(chars.len());
                match self.below(5) {
                    0 => chars.truncate(at),
                    1 => {
                        chars.remove(at);
                    }
                    2 => {
                        let ins: Vec<char> = self.text(3).chars().collect();
                        chars.splice(at..at, ins);
                    }
                    3 => {
                        let other = self.below(chars.len());
                        chars.swap(at, other);
                    }
                    _ => {
                        // Replace a run of digits or letters with noise.
                        let end = (at + self.below(8)).min(chars.len());
                        let ins: Vec<char> = self.text(2).chars().collect();
                        chars.splice(at..end, ins);
                    }
                }
            }
            chars.into_iter().collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalised() {
        let samsung = Ticker::parse("005930").unwrap();
        for text in [
            "005930",
            "A005930",
            "005930_NX",
            "005930_AL",
            " A005930 ",
            "J005930",
            "A005930_AL",
        ] {
            assert_eq!(parse_code(text), Some(samsung), "{text:?}");
        }
        for bad in [
            "",
            "05930",
            "AA005930",
            "0004V0",
            "005930_XX",
            "A00593",
            "ㄱ005930",
            "0059300",
        ] {
            assert_eq!(parse_code(bad), None, "{bad:?}");
        }
        assert_eq!(stock_code(samsung), "005930");
        assert_eq!(product_code(samsung), "A005930");
        let e = ticker_field("REAL 02 values", "9001", "0004V0").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("REAL 02 values") && msg.contains("`9001`") && msg.contains("0004V0"),
            "{msg}"
        );
        let e = ticker_field("kt00018 row", "stk_cd", " ").unwrap_err();
        assert!(matches!(e, WireError::MissingField { .. }), "{e:?}");
    }

    #[test]
    fn paper_messages_are_recognised() {
        assert!(is_paper_message("모의투자 조회완료"));
        assert!(!is_paper_message("조회가 완료되었습니다"));
    }
}
