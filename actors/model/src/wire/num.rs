//! Numbers on LS's wire. REST sends integers as JSON numbers and decimals as fixed-point
//! text (`"000.22"`, `"35000.00"`); websocket bodies send everything as text (`"55550"`,
//! `".00"`, `"-0.37"`); clients send either. This file owns the one set of rules for
//! reading and writing them: lenient integer decoding, fixed decimals to and from scaled
//! integers, and serde helper modules (`#[serde(with = "num::int")]`, ...).
//!
//! Must never use floats for values: a JSON float is accepted only when it is a whole
//! number, decimals become scaled integers (basis points, hundredths), and a fraction
//! that would be lost is an error, never rounded away.

use std::fmt;

use serde::de::{self, Unexpected, Visitor};
use serde::{Deserializer, Serializer};

use super::WireError;
use crate::market::{check_cum_volume, Price, Qty};

/// Why numeric text was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NumError {
    /// Empty or only spaces.
    Empty,
    /// Not digits with an optional sign and decimal point.
    NotANumber,
    /// A non-zero fraction where a whole number (or fewer decimals) was required.
    Fraction,
    /// Does not fit the integer type.
    OutOfRange,
    /// A minus sign on an unsigned quantity.
    Negative,
}

impl NumError {
    /// What was expected instead, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            NumError::Empty => "a number, not empty text",
            NumError::NotANumber => "decimal digits with an optional sign and point",
            NumError::Fraction => "no more decimals than the field allows",
            NumError::OutOfRange => "a number within range",
            NumError::Negative => "a non-negative number",
        }
    }
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }
}

/// Splits `[ ][+-]digits[.digits][ ]` into (negative, integer digits, fraction digits).
/// Fixed-width LS fields may be space-padded, so surrounding spaces are ignored.
fn split(text: &str) -> Result<(bool, &[u8], &[u8]), NumError> {
    let t = text.trim_ascii().as_bytes();
    let (neg, rest) = match t.first() {
        None => return Err(NumError::Empty),
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        Some(_) => (false, t),
    };
    let (int, frac) = match rest.iter().position(|&b| b == b'.') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(NumError::NotANumber);
    }
    if !int.iter().all(u8::is_ascii_digit) || !frac.iter().all(u8::is_ascii_digit) {
        return Err(NumError::NotANumber);
    }
    Ok((neg, int, frac))
}

fn accumulate(acc: u64, digits: &[u8]) -> Result<u64, NumError> {
    digits.iter().try_fold(acc, |v, &d| {
        v.checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(NumError::OutOfRange)
    })
}

fn signed(neg: bool, magnitude: u64) -> Result<i64, NumError> {
    let v = i64::try_from(magnitude).map_err(|_| NumError::OutOfRange)?;
    Ok(if neg { -v } else { v })
}

/// Parses a whole number from text: `"55550"`, `"035000"`, `"-120"`, `"35000.00"`, `".00"`.
/// A fraction is allowed only if it is all zeros.
pub fn parse_int(text: &str) -> Result<i64, NumError> {
    let (neg, int, frac) = split(text)?;
    if frac.iter().any(|&b| b != b'0') {
        return Err(NumError::Fraction);
    }
    signed(neg, accumulate(0, int)?)
}

/// Like [`parse_int`] for quantities: a minus sign is refused (except on zero).
pub fn parse_uint(text: &str) -> Result<u64, NumError> {
    let (neg, int, frac) = split(text)?;
    if frac.iter().any(|&b| b != b'0') {
        return Err(NumError::Fraction);
    }
    let v = accumulate(0, int)?;
    if neg && v != 0 {
        return Err(NumError::Negative);
    }
    Ok(v)
}

fn pow10(scale: u32) -> u64 {
    10u64.saturating_pow(scale)
}

/// Parses fixed-point text into an integer of `scale` decimals: `("1.93", 2)` → 193,
/// `("-0.37", 2)` → -37, `("000.22", 2)` → 22, `(".0000000", 7)` → 0, `("5", 2)` → 500.
/// Extra decimals must be zeros (`("1.000", 2)` → 100); `("1.005", 2)` is an error.
pub fn parse_fixed(text: &str, scale: u32) -> Result<i64, NumError> {
    let (neg, int, frac) = split(text)?;
    let keep = frac.len().min(scale as usize);
    if frac[keep..].iter().any(|&b| b != b'0') {
        return Err(NumError::Fraction);
    }
    let mut v = accumulate(0, int)?;
    v = accumulate(v, &frac[..keep])?;
    let missing = scale - keep as u32;
    v = v.checked_mul(pow10(missing)).ok_or(NumError::OutOfRange)?;
    signed(neg, v)
}

/// Writes a scaled integer as fixed-point text: `(193, 2)` → `"1.93"`, `(-37, 2)` →
/// `"-0.37"`, `(0, 2)` → `"0.00"`, `(5, 0)` → `"5"`.
pub fn format_fixed(scaled: i64, scale: u32) -> String {
    let sign = if scaled < 0 { "-" } else { "" };
    let a = scaled.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{a}");
    }
    let p = pow10(scale);
    format!("{sign}{}.{:0width$}", a / p, a % p, width = scale as usize)
}

/// Writes a whole number with `scale` zero decimals, as REST echoes prices:
/// `(35000, 2)` → `"35000.00"`.
pub fn format_int_fixed(value: i64, scale: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{}", value.unsigned_abs());
    }
    format!(
        "{sign}{}.{:0width$}",
        value.unsigned_abs(),
        0,
        width = scale as usize
    )
}

/// [`format_fixed`] zero-padded on the left to `width` characters, as t1102 writes its
/// `N6.2` fields: `(22, 2, 6)` → `"000.22"`, `(1114, 2, 6)` → `"011.14"`. The sign, if
/// any, stays in front of the padding (`"-00.37"`; UNCONFIRMED how LS pads negatives,
/// the recommended reading of a fixed-width field).
pub fn format_fixed_padded(scaled: i64, scale: u32, width: usize) -> String {
    let s = format_fixed(scaled, scale);
    if s.len() >= width {
        return s;
    }
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", s.as_str()),
    };
    let pad = width - s.len();
    format!("{sign}{}{digits}", "0".repeat(pad))
}

/// Parses an integer text field (e.g. a realtime body's `"55550"`), naming the frame or
/// TR (`what`), the field and the value on failure.
pub fn field_i64(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    parse_int(value).map_err(|e| WireError::bad_value(what, field, value, e.expected()))
}

/// [`field_i64`] for quantities and other non-negative counts.
pub fn field_u64(what: &str, field: &'static str, value: &str) -> Result<u64, WireError> {
    parse_uint(value).map_err(|e| WireError::bad_value(what, field, value, e.expected()))
}

/// Parses a fixed-decimal text field into an integer of `scale` decimals (a rate `"1.93"`
/// at scale 2 is 193 basis points), naming the field and value on failure.
pub fn field_fixed(
    what: &str,
    field: &'static str,
    value: &str,
    scale: u32,
) -> Result<i64, WireError> {
    parse_fixed(value, scale).map_err(|e| WireError::bad_value(what, field, value, e.expected()))
}

/// What a price field must hold ([`crate::market::MAX_PRICE`] in words), for errors.
pub const EXPECT_PRICE: &str = "a price from 1 to 99,999,000 won, the highest KRX can print";
/// [`EXPECT_PRICE`] where 0 means "none".
pub const EXPECT_PRICE_OR_ZERO: &str =
    "a price from 0 to 99,999,000 won, the highest KRX can print";
/// What a quantity field must hold ([`crate::market::MAX_QTY`] in words).
pub const EXPECT_QTY: &str = "a quantity from 0 to 99,999,999 shares";
/// What a cumulative volume must hold ([`crate::market::MAX_CUM_VOLUME`] in words).
pub const EXPECT_CUM_VOLUME: &str = "a volume from 0 to 999,999,999,999 shares";

/// A price field's text: 1 ..= `MAX_PRICE` won, else an error naming field and value.
pub fn field_price(what: &str, field: &'static str, value: &str) -> Result<Price, WireError> {
    parse_int(value)
        .ok()
        .and_then(|v| Price::new(v).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_PRICE))
}

/// [`field_price`] taking 0 (a market order's price, no best bid).
pub fn field_price_or_zero(
    what: &str,
    field: &'static str,
    value: &str,
) -> Result<Price, WireError> {
    parse_int(value)
        .ok()
        .and_then(|v| Price::new_or_zero(v).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_PRICE_OR_ZERO))
}

/// A quantity field's text: 0 ..= `MAX_QTY` shares, no minus sign.
pub fn field_qty(what: &str, field: &'static str, value: &str) -> Result<Qty, WireError> {
    parse_uint(value)
        .ok()
        .and_then(|v| Qty::new(v).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_QTY))
}

/// A day's cumulative volume: 0 ..= `MAX_CUM_VOLUME` shares, no minus sign.
pub fn field_cum_volume(what: &str, field: &'static str, value: &str) -> Result<u64, WireError> {
    parse_uint(value)
        .ok()
        .and_then(|v| check_cum_volume(v).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_CUM_VOLUME))
}

/// A decoded REST price as a [`Price`]: 0 ..= `MAX_PRICE`, else the field's error. A
/// reply decoded through [`price`] always holds one; a block built in code may not.
pub fn price_of(what: &str, field: &'static str, value: i64) -> Result<Price, WireError> {
    Price::new_or_zero(value)
        .map_err(|_| WireError::bad_value(what, field, &value.to_string(), EXPECT_PRICE_OR_ZERO))
}

/// A decoded quantity as a [`Qty`]: 0 ..= `MAX_QTY`, else the field's error.
pub fn qty_of(what: &str, field: &'static str, value: i64) -> Result<Qty, WireError> {
    u64::try_from(value)
        .ok()
        .and_then(|v| Qty::new(v).ok())
        .ok_or_else(|| WireError::bad_value(what, field, &value.to_string(), EXPECT_QTY))
}

/// Reads a JSON number or numeric text as a whole `i64`.
struct IntVisitor {
    /// `""`, spaces and `null` read as 0 (zero-filled REST out-blocks, optional fields).
    empty_is_zero: bool,
}

const EXPECT_INT: &str = "a whole number (JSON number or numeric text)";

impl<'de> Visitor<'de> for IntVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECT_INT)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &EXPECT_INT))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        whole_f64(v).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &EXPECT_INT))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        match parse_int(v) {
            Ok(n) => Ok(n),
            Err(NumError::Empty) if self.empty_is_zero => Ok(0),
            Err(_) => Err(E::invalid_value(Unexpected::Str(v), &EXPECT_INT)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
        if self.empty_is_zero {
            Ok(0)
        } else {
            Err(E::invalid_type(Unexpected::Unit, &EXPECT_INT))
        }
    }
}

/// Reads a JSON number or numeric text as a non-negative `u64`.
struct UintVisitor {
    empty_is_zero: bool,
}

const EXPECT_UINT: &str = "a non-negative whole number (JSON number or numeric text)";

impl<'de> Visitor<'de> for UintVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECT_UINT)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &EXPECT_UINT))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        whole_f64(v)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| E::invalid_value(Unexpected::Float(v), &EXPECT_UINT))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        match parse_uint(v) {
            Ok(n) => Ok(n),
            Err(NumError::Empty) if self.empty_is_zero => Ok(0),
            Err(_) => Err(E::invalid_value(Unexpected::Str(v), &EXPECT_UINT)),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        if self.empty_is_zero {
            Ok(0)
        } else {
            Err(E::invalid_type(Unexpected::Unit, &EXPECT_UINT))
        }
    }
}

/// A float is taken only when it is a whole number that an f64 holds exactly
/// (|v| < 2^53), so `60000.0` passes and `60000.5` or `1e300` do not.
fn whole_f64(v: f64) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    (v.is_finite() && v.fract() == 0.0 && v.abs() < EXACT).then_some(v as i64)
}

/// Text kept verbatim, from a JSON string or number (`null` → `""`).
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        // Only reached when a server sends a decimal as a JSON number; keep its shortest
        // round-trip text ("0.22"), the field stays text from here on.
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

/// `i64` as a JSON number; reads a number, a whole float or numeric text. Empty text is
/// an error. Use for required request numbers (`OrgOrdNo`).
pub mod int {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(IntVisitor {
            empty_is_zero: false,
        })
    }
}

/// Like [`int`], but `""`, spaces and `null` read as 0: REST out-block numbers, which
/// LS zero-fills (and sometimes blanks) on a rejection.
pub mod int_or_zero {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(IntVisitor {
            empty_is_zero: true,
        })
    }
}

/// `u64` as a JSON number; reads a number, a whole float or numeric text; refuses
/// negatives and empty text. Use for quantities (`OrdQty`).
pub mod uint {
    use super::*;

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(UintVisitor {
            empty_is_zero: false,
        })
    }
}

/// Like [`uint`], but `""`, spaces and `null` read as 0.
pub mod uint_or_zero {
    use super::*;

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(UintVisitor {
            empty_is_zero: true,
        })
    }
}

/// `Option<i64>` for fields LS may or may not send: absent or `null` → `None`, otherwise
/// as [`int_or_zero`]. Pair with `default` and `skip_serializing_if = "Option::is_none"`.
pub mod opt_int {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_i64(*n),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct OptVisitor;
        impl<'de> Visitor<'de> for OptVisitor {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECT_INT)
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
                int_or_zero::deserialize(d).map(Some)
            }
        }
        d.deserialize_option(OptVisitor)
    }
}

/// Reads like [`int_or_zero`], then refuses a value outside `lo ..= hi`, saying `expected`.
fn bounded<'de, D: Deserializer<'de>>(
    d: D,
    lo: i64,
    hi: i64,
    expected: &'static str,
) -> Result<i64, D::Error> {
    let v = int_or_zero::deserialize(d)?;
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(de::Error::invalid_value(Unexpected::Signed(v), &expected))
    }
}

/// A REST price (`i64`, whole won) as [`int_or_zero`] reads it, held to 0 ..= `MAX_PRICE`
/// (0: zero-filled on a rejection): a reply with a price KRX cannot print fails to decode,
/// naming the field, rather than reach the engine.
pub mod price {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        bounded(d, 0, crate::market::MAX_PRICE.won(), EXPECT_PRICE_OR_ZERO)
    }
}

/// A REST quantity (`i64` shares) as [`int_or_zero`] reads it, held to 0 ..= `MAX_QTY`.
pub mod qty {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        // MAX_QTY is eight digits: it fits an i64.
        bounded(d, 0, crate::market::MAX_QTY.shares() as i64, EXPECT_QTY)
    }
}

/// A REST cumulative volume (`i64` shares) held to 0 ..= `MAX_CUM_VOLUME`.
pub mod cum_volume {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        // Twelve digits: fits an i64.
        bounded(
            d,
            0,
            crate::market::MAX_CUM_VOLUME as i64,
            EXPECT_CUM_VOLUME,
        )
    }
}

/// A `String` written as JSON text, read from text or a JSON number (`null` → `""`) and
/// kept verbatim. For REST decimals (`"000.22"`, `"35000.00"`, `"0.000000"`), which LS
/// sends as text but other servers and clients may send as numbers, and for fields whose
/// type the reference does not pin down.
pub mod text {
    use super::*;

    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[test]
    fn parse_int_accepts_ls_number_text() {
        let ok = [
            ("55550", 55550),
            ("035000", 35000),
            (".00", 0),
            ("35000.00", 35000),
            ("-120", -120),
            ("+7", 7),
            (" 42 ", 42),
            ("0", 0),
            ("5.", 5),
            ("-0", 0),
        ];
        for (text, want) in ok {
            assert_eq!(parse_int(text), Ok(want), "{text:?}");
        }
        assert_eq!(parse_int(""), Err(NumError::Empty));
        assert_eq!(parse_int("   "), Err(NumError::Empty));
        assert_eq!(parse_int("-0.37"), Err(NumError::Fraction));
        assert_eq!(parse_int("35000.50"), Err(NumError::Fraction));
        for bad in [
            "abc", "1e5", "12a", ".", "-", "1.2.3", "0x10", "--1", "１２",
        ] {
            assert_eq!(parse_int(bad), Err(NumError::NotANumber), "{bad:?}");
        }
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int("9223372036854775808"), Err(NumError::OutOfRange));
        assert_eq!(
            parse_int("99999999999999999999999"),
            Err(NumError::OutOfRange)
        );
    }

    #[test]
    fn parse_uint_refuses_negatives() {
        assert_eq!(parse_uint("0010"), Ok(10));
        assert_eq!(parse_uint("-0"), Ok(0));
        assert_eq!(parse_uint("-1"), Err(NumError::Negative));
        assert_eq!(parse_uint("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_uint("18446744073709551616"),
            Err(NumError::OutOfRange)
        );
    }

    #[test]
    fn fixed_decimals_to_scaled_integers() {
        let cases = [
            ("1.93", 2, 193),
            ("-0.37", 2, -37),
            ("000.22", 2, 22),
            ("011.14", 2, 1114),
            ("332.56", 2, 33256),
            (".00", 2, 0),
            (".0000000", 7, 0),
            ("1.000", 3, 1000),
            ("1.000", 2, 100),
            ("5", 2, 500),
            ("35000.00", 2, 3_500_000),
            ("0.000000", 6, 0),
        ];
        for (text, scale, want) in cases {
            assert_eq!(parse_fixed(text, scale), Ok(want), "{text:?} @ {scale}");
        }
        assert_eq!(parse_fixed("1.005", 2), Err(NumError::Fraction));
        assert_eq!(parse_fixed("", 2), Err(NumError::Empty));
        assert_eq!(parse_fixed("1,5", 2), Err(NumError::NotANumber));
    }

    #[test]
    fn fixed_decimal_encoding() {
        assert_eq!(format_fixed(193, 2), "1.93");
        assert_eq!(format_fixed(-37, 2), "-0.37");
        assert_eq!(format_fixed(0, 2), "0.00");
        assert_eq!(format_fixed(5, 0), "5");
        assert_eq!(format_fixed(-5, 0), "-5");
        assert_eq!(format_fixed(1000, 3), "1.000");
        assert_eq!(format_fixed(i64::MIN, 2), "-92233720368547758.08");
        assert_eq!(format_int_fixed(35000, 2), "35000.00");
        assert_eq!(format_int_fixed(-3, 2), "-3.00");
        assert_eq!(format_int_fixed(7, 0), "7");
        assert_eq!(format_fixed_padded(22, 2, 6), "000.22");
        assert_eq!(format_fixed_padded(1114, 2, 6), "011.14");
        assert_eq!(format_fixed_padded(-37, 2, 6), "-00.37");
        assert_eq!(format_fixed_padded(123456, 2, 6), "1234.56");
        for v in [-100_000, -37, -1, 0, 1, 99, 193, 2_508_350] {
            assert_eq!(parse_fixed(&format_fixed(v, 2), 2), Ok(v));
            assert_eq!(parse_fixed(&format_fixed_padded(v, 2, 6), 2), Ok(v));
        }
    }

    #[test]
    fn field_helpers_name_field_and_value() {
        assert_eq!(field_i64("S3_/K3_ body", "price", "55550"), Ok(55550));
        let msg = field_i64("S3_/K3_ body", "price", "55a50")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("S3_/K3_ body") && msg.contains("`price`") && msg.contains("\"55a50\""),
            "{msg}"
        );
        let msg = field_u64("SC1 body", "execqty", "-1")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("execqty") && msg.contains("non-negative"),
            "{msg}"
        );
        assert_eq!(field_fixed("S3_/K3_ body", "drate", "-0.37", 2), Ok(-37));
    }

    #[test]
    fn bounded_fields_hold_what_krx_can_print() {
        use crate::market::{MAX_CUM_VOLUME, MAX_PRICE, MAX_QTY};
        let w = "S3_/K3_ body";
        assert_eq!(field_price(w, "price", "99999000"), Ok(MAX_PRICE));
        assert_eq!(field_price(w, "price", " 55550 "), Ok(Price::lit(55_550)));
        for bad in [
            "99999001",
            "9223372036854775807",
            "99999999999999999999",
            "0",
            "-5",
            "x",
        ] {
            let e = field_price(w, "price", bad).unwrap_err().to_string();
            assert!(e.contains("`price`") && e.contains(bad.trim()), "{e}");
        }
        let e = field_price(w, "price", "9223372036854775807")
            .unwrap_err()
            .to_string();
        assert!(e.contains("99,999,000"), "{e}");
        assert_eq!(field_price_or_zero(w, "bidho", "0"), Ok(Price::ZERO));
        assert!(field_price_or_zero(w, "bidho", "100000000").is_err());
        assert_eq!(field_qty(w, "cvolume", "99999999"), Ok(MAX_QTY));
        for bad in ["100000000", "18446744073709551615", "-1", "-99999999999"] {
            assert!(field_qty(w, "cvolume", bad).is_err(), "{bad}");
        }
        assert_eq!(
            field_cum_volume(w, "volume", "999999999999"),
            Ok(MAX_CUM_VOLUME)
        );
        assert!(field_cum_volume(w, "volume", "1000000000000").is_err());
        assert!(field_cum_volume(w, "volume", "-3").is_err());
        // The words in the messages are the constants.
        let words = |n: u64| {
            let d = n.to_string();
            let mut out = String::new();
            for (i, c) in d.chars().enumerate() {
                if i > 0 && (d.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        assert!(EXPECT_PRICE.contains(&words(MAX_PRICE.won() as u64)));
        assert!(EXPECT_PRICE_OR_ZERO.contains(&words(MAX_PRICE.won() as u64)));
        assert!(EXPECT_QTY.contains(&words(MAX_QTY.shares())));
        assert!(EXPECT_CUM_VOLUME.contains(&words(MAX_CUM_VOLUME)));
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Bounded {
        #[serde(default, with = "price")]
        p: i64,
        #[serde(default, with = "qty")]
        q: i64,
        #[serde(default, with = "cum_volume")]
        v: i64,
    }

    #[test]
    fn bounded_serde_helpers_refuse_what_krx_cannot_print() {
        let b: Bounded = serde_json::from_str(r#"{"p":"99999000","q":99999999,"v":""}"#).unwrap();
        assert_eq!((b.p, b.q, b.v), (99_999_000, 99_999_999, 0));
        for bad in [
            r#"{"p":9223372036854775807}"#,
            r#"{"p":99999001}"#,
            r#"{"p":-1}"#,
            r#"{"q":100000000}"#,
            r#"{"q":-5}"#,
            r#"{"v":1000000000000}"#,
        ] {
            let e = serde_json::from_str::<Bounded>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("from 0 to"), "{bad}: {e}");
        }
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Probe {
        #[serde(with = "int")]
        a: i64,
        #[serde(default, with = "int_or_zero")]
        b: i64,
        #[serde(with = "uint")]
        q: u64,
        #[serde(default, with = "text")]
        r: String,
        #[serde(default, with = "opt_int", skip_serializing_if = "Option::is_none")]
        o: Option<i64>,
    }

    fn probe(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn serde_helpers_are_lenient_on_input_and_canonical_on_output() {
        let p = probe(r#"{"a":"035000","b":"","q":5.0,"r":0.22,"o":null}"#).unwrap();
        assert_eq!(
            p,
            Probe {
                a: 35000,
                b: 0,
                q: 5,
                r: "0.22".into(),
                o: None
            }
        );
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"a":35000,"b":0,"q":5,"r":"0.22"}"#
        );
        let p = probe(r#"{"a":-5,"b":null,"q":"7","r":"000.22","o":"12"}"#).unwrap();
        assert_eq!(
            (p.a, p.b, p.q, p.r.as_str(), p.o),
            (-5, 0, 7, "000.22", Some(12))
        );
        let p = probe(r#"{"a":1,"q":1}"#).unwrap();
        assert_eq!((p.b, p.r.as_str(), p.o), (0, "", None));
    }

    #[test]
    fn serde_helpers_reject_what_would_lose_value() {
        for bad in [
            r#"{"a":"","q":1}"#,
            r#"{"a":60000.5,"q":1}"#,
            r#"{"a":"1.5","q":1}"#,
            r#"{"a":1,"q":-1}"#,
            r#"{"a":1,"q":"-1"}"#,
            r#"{"a":1,"q":1e300}"#,
            r#"{"a":18446744073709551615,"q":1}"#,
            r#"{"a":true,"q":1}"#,
            r#"{"a":null,"q":1}"#,
        ] {
            assert!(probe(bad).is_err(), "{bad}");
        }
        let msg = probe(r#"{"a":"12x","q":1}"#).unwrap_err().to_string();
        assert!(msg.contains("\"12x\""), "{msg}");
    }
}
