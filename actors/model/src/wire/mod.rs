//! LS OPEN API wire formats: the serde types of every REST TR and websocket frame condor
//! speaks, with encoders and decoders. `protocol/ls-openapi.md` is the reference; field
//! names, codes and paths here are copied from it verbatim.
//!
//! Owns the bytes-to-types boundary and nothing else: no I/O, no clocks, no actor state.
//! Must never panic on input, never reject a reply for an unknown or reordered field, and
//! never turn money into a float. Every refusal is a [`WireError`] that names the TR or
//! frame, the field and the value.
//!
//! Files: [`num`] (lenient numbers, fixed decimals), [`token`] (OAuth2), [`rest`] (the REST
//! envelope and the [`rest::Tr`] trait), [`order`], [`account`], [`market_data`],
//! [`search`] (one file per group of TRs), [`realtime`] (websocket frames and bodies).

pub mod account;
pub mod market_data;
pub mod num;
pub mod order;
pub mod realtime;
pub mod rest;
pub mod search;
pub mod token;

use serde::Deserialize;

pub use num::{
    field_fixed, field_i64, field_u64, format_fixed, format_fixed_padded, format_int_fixed,
    parse_fixed, parse_int, parse_uint, NumError,
};
pub use realtime::{decode_client_frame, decode_server_frame, Registration, ServerFrame, TrType};
pub use rest::{
    decode_reply, decode_request, encode_reply, encode_request, path_for_tr, Reply, Tr,
};

/// Why bytes from (or for) LS could not be turned into a typed value.
///
/// `what` names the TR or frame (`"S3_ frame"`, `"CSPAT00601 reply"`, `"registration
/// frame"`); field paths and offending values are always part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The text is not JSON at all (or is cut short).
    #[error("{what}: not JSON: {detail}")]
    NotJson { what: String, detail: String },
    /// Valid JSON of the wrong shape: a required field is missing or has the wrong type.
    /// `detail` starts with the field path (`body.price: ...`) when there is one.
    #[error("{what}: {detail}")]
    Malformed { what: String, detail: String },
    /// A required field is absent (checks serde cannot express).
    #[error("{what}: missing field `{field}`")]
    MissingField { what: String, field: &'static str },
    /// A field is present but its value cannot be used.
    #[error("{what}: field `{field}` has bad value {value:?}: expected {expected}")]
    BadValue {
        what: String,
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A `tr_cd` this module has no type for.
    #[error("{what}: unknown tr_cd {tr_cd:?}")]
    UnknownTr { what: String, tr_cd: String },
}

impl WireError {
    pub(crate) fn bad_value(
        what: &str,
        field: &'static str,
        value: &str,
        expected: &'static str,
    ) -> WireError {
        WireError::BadValue {
            what: what.to_owned(),
            field,
            value: value.to_owned(),
            expected,
        }
    }

    pub(crate) fn missing(what: &str, field: &'static str) -> WireError {
        WireError::MissingField {
            what: what.to_owned(),
            field,
        }
    }

    /// Turns a serde_json error into `NotJson` (syntax, truncation) or `Malformed`.
    pub(crate) fn from_json(what: &str, err: &serde_json::Error) -> WireError {
        if err.is_syntax() || err.is_eof() || err.is_io() {
            WireError::NotJson {
                what: what.to_owned(),
                detail: err.to_string(),
            }
        } else {
            WireError::Malformed {
                what: what.to_owned(),
                detail: err.to_string(),
            }
        }
    }

    /// A failed decode of `text` (tracked, so `err` has the field path): `NotJson` when
    /// the text is not JSON, with the grammar's own error (where the text breaks, whatever
    /// the typed read met first); otherwise `Malformed`, the path in front of the message.
    pub(crate) fn from_tracked(
        what: &str,
        text: &str,
        err: &serde_path_to_error::Error<serde_json::Error>,
    ) -> WireError {
        if let Some(not_json) = WireError::not_json(what, text) {
            return not_json;
        }
        let inner = err.inner();
        let detail = if inner.is_syntax() || inner.is_eof() {
            // JSON whose value serde_json cannot read: see `not_json`.
            format!("{err} (JSON, but not a value condor can hold)")
        } else {
            // Prints "<path>: <message>", the path left out when the error is at the root.
            err.to_string()
        };
        WireError::Malformed {
            what: what.to_owned(),
            detail,
        }
    }

    /// `NotJson` if `text` is not one JSON text by RFC 8259's grammar, which serde_json's
    /// skipper (`IgnoredAny`) checks exactly. Its typed reads refuse two things more, as
    /// "syntax" errors: an escape that is half a UTF-16 surrogate pair (`"\ud800"`, which
    /// the grammar allows, RFC 8259 §8.2) cannot be a Rust `str`, and a number past `f64`
    /// (`1e400`; §6 leaves the range to the reader) cannot be read as one. Text holding
    /// those is JSON with a value condor cannot hold: `Malformed` at that field, like a
    /// wrongly typed one, so `NotJson` means exactly "not JSON" on every decoder, and a
    /// field the engine skips unread does not cost it a tick. Cold: explains errors only.
    pub(crate) fn not_json(what: &str, text: &str) -> Option<WireError> {
        serde_json::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .map(|e| WireError::from_json(what, &e))
    }
}

/// Decodes `text` as `T`, naming the failing field's path in the error. For cold paths
/// (REST replies, registrations); hot paths decode untracked and call this only to explain
/// a failure.
pub(crate) fn decode_tracked<'de, T: Deserialize<'de>>(
    what: &str,
    text: &'de str,
) -> Result<T, WireError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| WireError::from_tracked(what, text, &e))?;
    // Trailing garbage after the value means the text was not one JSON document.
    de.end().map_err(|e| WireError::from_json(what, &e))?;
    Ok(value)
}

/// Serializes a wire struct. These types hold only strings, integers, options and
/// vectors of the same, written into a `Vec`, so serde_json cannot fail on them.
pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// 전일대비구분: the direction of a price against the base price (`sign` in t1102, S3_/K3_,
/// t1859; `gsSign` in AFR).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Sign {
    /// `1` 상한: at the upper limit.
    UpperLimit,
    /// `2` 상승.
    Up,
    /// `3` 보합.
    Flat,
    /// `4` 하한: at the lower limit.
    LowerLimit,
    /// `5` 하락.
    Down,
}

impl Sign {
    pub fn code(self) -> &'static str {
        match self {
            Sign::UpperLimit => "1",
            Sign::Up => "2",
            Sign::Flat => "3",
            Sign::LowerLimit => "4",
            Sign::Down => "5",
        }
    }

    pub fn from_code(code: &str) -> Option<Sign> {
        match code.trim_ascii() {
            "1" => Some(Sign::UpperLimit),
            "2" => Some(Sign::Up),
            "3" => Some(Sign::Flat),
            "4" => Some(Sign::LowerLimit),
            "5" => Some(Sign::Down),
            _ => None,
        }
    }

    /// The sign for a change against the base price; `at_limit` picks 1/4 over 2/5.
    pub fn of_change(change: i64, at_limit: bool) -> Sign {
        match (change.signum(), at_limit) {
            (1, false) => Sign::Up,
            (1, true) => Sign::UpperLimit,
            (-1, false) => Sign::Down,
            (-1, true) => Sign::LowerLimit,
            _ => Sign::Flat,
        }
    }

    /// True for a fall (4 or 5).
    pub fn is_down(self) -> bool {
        matches!(self, Sign::LowerLimit | Sign::Down)
    }

    /// LS sends `change` unsigned; this gives it the sign's direction. `None` for
    /// `i64::MIN`, the one magnitude whose absolute value has no `i64` (a REST body can
    /// carry it as a JSON number).
    pub fn apply(self, magnitude: i64) -> Option<i64> {
        let m = magnitude.checked_abs()?;
        Some(if self.is_down() {
            -m
        } else if self == Sign::Flat {
            0
        } else {
            m
        })
    }

    /// [`Sign::apply`] to a field's value, naming the frame/TR, field and value when the
    /// magnitude does not fit.
    pub fn apply_field(
        self,
        what: &str,
        field: &'static str,
        magnitude: i64,
    ) -> Result<i64, WireError> {
        self.apply(magnitude).ok_or_else(|| {
            WireError::bad_value(
                what,
                field,
                &magnitude.to_string(),
                "a magnitude above i64::MIN",
            )
        })
    }

    /// Parses a sign field, naming the frame/TR, field and value on failure.
    pub fn parse_field(what: &str, field: &'static str, value: &str) -> Result<Sign, WireError> {
        Sign::from_code(value)
            .ok_or_else(|| WireError::bad_value(what, field, value, "a sign code 1..5"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_codes_round_trip_and_apply_direction() {
        for s in [
            Sign::UpperLimit,
            Sign::Up,
            Sign::Flat,
            Sign::LowerLimit,
            Sign::Down,
        ] {
            assert_eq!(Sign::from_code(s.code()), Some(s));
        }
        assert_eq!(Sign::Down.apply(200), Some(-200));
        assert_eq!(Sign::Up.apply(200), Some(200));
        assert_eq!(Sign::Flat.apply(200), Some(0));
        assert_eq!(Sign::Down.apply(-i64::MAX), Some(-i64::MAX));
        assert_eq!(Sign::of_change(-5, true), Sign::LowerLimit);
        assert_eq!(Sign::of_change(0, true), Sign::Flat);
        let e = Sign::parse_field("S3_/K3_ body", "sign", "9").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("S3_/K3_") && msg.contains("`sign`") && msg.contains("\"9\""),
            "{msg}"
        );
    }

    /// Found by tests/hostile_input.rs: `i64::MIN.abs()` overflowed (a panic in debug
    /// builds, a wrong sign in release) on a t1102 `change` of -9223372036854775808.
    #[test]
    fn apply_refuses_the_magnitude_of_i64_min() {
        for s in [Sign::UpperLimit, Sign::Up, Sign::Flat, Sign::Down] {
            assert_eq!(s.apply(i64::MIN), None, "{s:?}");
        }
        let e = Sign::Up
            .apply_field("t1102OutBlock", "change", i64::MIN)
            .unwrap_err();
        assert_eq!(
            e,
            WireError::BadValue {
                what: "t1102OutBlock".into(),
                field: "change",
                value: "-9223372036854775808".into(),
                expected: "a magnitude above i64::MIN",
            }
        );
        assert_eq!(Sign::Down.apply_field("x", "change", 7), Ok(-7));
    }

    #[test]
    fn tracked_decode_names_the_field_path() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            price: String,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            body: Inner,
        }
        let e = decode_tracked::<Outer>("S3_ frame", r#"{"body":{"price":55550}}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("S3_ frame") && msg.contains("body.price"),
            "{msg}"
        );
        let e = decode_tracked::<Outer>("S3_ frame", r#"{"body":{}}"#).unwrap_err();
        assert!(e.to_string().contains("`price`"), "{e}");
        let e = decode_tracked::<Outer>("S3_ frame", r#"{"body":{"pri"#).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        let e = decode_tracked::<Outer>("S3_ frame", r#"{"body":{"price":"1"}} x"#).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        // Not JSON is said first, whatever the typed read met before the break.
        let e = decode_tracked::<Outer>("S3_ frame", r#"{"body":{"price":1}} x"#).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        // JSON that no Rust string or f64 holds is malformed at its field.
        for value in [r#""\ud800""#, r#""\udc00""#, r#""\ud800\u0041""#, "1e400"] {
            let text = format!(r#"{{"body":{{"price":{value}}}}}"#);
            let e = decode_tracked::<Outer>("S3_ frame", &text).unwrap_err();
            assert!(
                matches!(&e, WireError::Malformed { detail, .. } if detail.starts_with("body.price: ")),
                "{text}: {e:?}"
            );
        }
        let e =
            decode_tracked::<Outer>("S3_ frame", r#"{"body":{"price":"\ud800"} x"#).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
    }
}
