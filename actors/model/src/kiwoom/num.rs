//! Kiwoom's numbers (reference §3.4). Every value is text: plain (`"70000"`), signed where
//! the sign is a **direction against the prior close** and the price itself is the
//! absolute value (`"+70000"`, `"-91200"`, `"-0"`), zero-padded to a fixed width with the
//! sign in the first position (`"000000000017534"`, `"-00000000000084"`,
//! `"+000072000"`), decimals (`"+0.71"`, paper's padded `"000000002.98"`), blank (`""`,
//! no value) and, per one third-party parser, comma-grouped (`"1,234,567"`, UNCONFIRMED:
//! read, never written). This file owns the one set of rules for reading and writing them.
//!
//! Must never use floats: decimals become scaled integers (basis points), a fraction that
//! would be lost is an error, and a price's sign is never mistaken for a negative price.

use std::borrow::Cow;

use crate::market::{check_cum_volume, Price, Qty, TimeOfDay};
use crate::wire::num as ls;
pub use crate::wire::num::NumError;
use crate::wire::num::{EXPECT_CUM_VOLUME, EXPECT_PRICE, EXPECT_PRICE_OR_ZERO, EXPECT_QTY};
use crate::wire::WireError;

/// The sign a value was written with. On prices it is a direction against the prior
/// close (a `-` price is a price below it, not a negative price); on `0B`'s trade
/// quantity (`15`) it is the aggressor (`+` buyer-initiated, `-` seller-initiated).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Mark {
    Plus,
    Minus,
    /// No sign written: flat, or a field that is never signed.
    None,
}

impl Mark {
    /// The sign text: `"+"`, `"-"` or `""`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mark::Plus => "+",
            Mark::Minus => "-",
            Mark::None => "",
        }
    }

    /// The mark of `value` against `base`: above `+`, below `-`, equal none.
    pub fn versus(value: i64, base: i64) -> Mark {
        match value.cmp(&base) {
            std::cmp::Ordering::Greater => Mark::Plus,
            std::cmp::Ordering::Less => Mark::Minus,
            std::cmp::Ordering::Equal => Mark::None,
        }
    }
}

/// A value split into the sign it was written with and its magnitude.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Marked {
    pub mark: Mark,
    pub magnitude: u64,
}

impl Marked {
    /// The value with its sign applied (`"-84"` → -84). `None` past `i64`.
    pub fn signed(self) -> Option<i64> {
        let m = i64::try_from(self.magnitude).ok()?;
        Some(if self.mark == Mark::Minus { -m } else { m })
    }
}

/// Removes thousands separators, accepting a comma only between two digits
/// (`"1,234,567"`; `",5"`, `"1,,2"`, `"1,"` are not numbers). Comma grouping is
/// UNCONFIRMED (§3.4: one third-party parser and test); it is read, never written.
fn ungroup(text: &str) -> Result<Cow<'_, str>, NumError> {
    if !text.contains(',') {
        return Ok(Cow::Borrowed(text));
    }
    let b = text.as_bytes();
    for (i, _) in text.match_indices(',') {
        let before = i.checked_sub(1).map(|j| b[j]);
        let after = b.get(i + 1).copied();
        if !before.is_some_and(|c| c.is_ascii_digit()) || !after.is_some_and(|c| c.is_ascii_digit())
        {
            return Err(NumError::NotANumber);
        }
    }
    Ok(Cow::Owned(text.replace(',', "")))
}

/// Parses a whole number: `"70000"`, `"+70000"`, `"-00000000000084"`, `"1,234"`,
/// `"35000.00"` (zero decimals only). Surrounding spaces are ignored; blank is
/// [`NumError::Empty`].
pub fn parse_int(text: &str) -> Result<i64, NumError> {
    ls::parse_int(&ungroup(text)?)
}

/// [`parse_int`] for quantities and counts: a `+` is fine, a `-` is refused (except on 0).
pub fn parse_uint(text: &str) -> Result<u64, NumError> {
    ls::parse_uint(&ungroup(text)?)
}

/// Splits a direction-marked whole number into its mark and magnitude: `"+70000"` →
/// (Plus, 70000), `"-0"` → (Minus, 0), `"000021850"` → (None, 21850).
pub fn parse_marked(text: &str) -> Result<Marked, NumError> {
    let t = text.trim_ascii();
    let mark = match t.as_bytes().first() {
        Some(b'+') => Mark::Plus,
        Some(b'-') => Mark::Minus,
        _ => Mark::None,
    };
    let digits = match mark {
        Mark::None => t,
        _ => &t[1..],
    };
    // The sign was taken off; a second one ("+-5") is not a number.
    if digits.starts_with(['+', '-']) {
        return Err(NumError::NotANumber);
    }
    if digits.is_empty() && mark != Mark::None {
        return Err(NumError::NotANumber);
    }
    let magnitude = parse_uint(digits)?;
    Ok(Marked { mark, magnitude })
}

/// Parses a decimal into an integer of `scale` decimals: `("+0.71", 2)` → 71,
/// `("000000002.98", 2)` → 298, `("-1.5", 2)` → -150. Extra decimals must be zeros.
pub fn parse_fixed(text: &str, scale: u32) -> Result<i64, NumError> {
    ls::parse_fixed(&ungroup(text)?, scale)
}

/// Writes `value` zero-padded to `width` characters, a minus sign in the first position:
/// `(17534, 15)` → `"000000000017534"`, `(-84, 15)` → `"-00000000000084"`. A value wider
/// than `width` is written whole.
pub fn format_padded(value: i64, width: usize) -> String {
    if value < 0 {
        format!("-{:0w$}", value.unsigned_abs(), w = width.saturating_sub(1))
    } else {
        format!("{value:0width$}")
    }
}

/// Writes `value` as a sign and `digits` zero-padded digits, the sign always written:
/// `(72000, 9)` → `"+000072000"`, `(-1500, 8)` → `"-00001500"`, `(0, 9)` →
/// `"+000000000"`.
pub fn format_signed_padded(value: i64, digits: usize) -> String {
    let sign = if value < 0 { '-' } else { '+' };
    format!("{sign}{:0digits$}", value.unsigned_abs())
}

/// Writes a magnitude with a mark: `(70000, Plus)` → `"+70000"`, `(500, None)` → `"500"`.
pub fn format_marked(magnitude: u64, mark: Mark) -> String {
    format!("{}{magnitude}", mark.as_str())
}

/// A price written as Kiwoom writes prices: its magnitude marked by its direction
/// against `base` (the prior close): `(70500, 70000)` → `"+70500"`, `(69800, 70000)` →
/// `"-69800"`, `(70000, 70000)` → `"70000"`.
pub fn format_price_vs(price: i64, base: i64) -> String {
    format_marked(price.unsigned_abs(), Mark::versus(price, base))
}

/// A signed value with its sign always written when non-zero: `500` → `"+500"`, `-50` →
/// `"-50"`, `0` → `"0"` (changes against the prior close: `pred_pre`, `0B`'s `11`).
pub fn format_signed(value: i64) -> String {
    format_marked(value.unsigned_abs(), Mark::versus(value, 0))
}

/// A rate in basis points as a signed two-decimal percentage: `71` → `"+0.71"`, `-24` →
/// `"-0.24"`, `0` → `"0.00"`.
pub fn format_rate(bp: i64) -> String {
    let plus = if bp > 0 { "+" } else { "" };
    format!("{plus}{}", ls::format_fixed(bp, 2))
}

/// A rate in basis points as the paper server pads it (`kt00018`): `(298, 12)` →
/// `"000000002.98"`, `(-150, 12)` → `"-00000001.50"`.
pub fn format_padded_rate(bp: i64, width: usize) -> String {
    ls::format_fixed_padded(bp, 2, width)
}

/// `change` against `base` in basis points, rounded half away from zero as Kiwoom's
/// samples are (`-50` on `20850` → -24, i.e. `"-0.24"`); 0 when `base` is not positive.
pub fn rate_bp(change: i64, base: i64) -> i64 {
    if base <= 0 {
        return 0;
    }
    let n = i128::from(change) * 10_000;
    let b = i128::from(base);
    let (q, r) = (n / b, n % b);
    let q = if 2 * r.abs() >= b { q + n.signum() } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

/// Parses `HHmmss` (`"094022"`) or `HH:MM:SS` (`"13:05:43"`, kt00007's `ord_tm`).
pub fn parse_time(text: &str) -> Option<TimeOfDay> {
    let t = text.trim_ascii();
    match t.len() {
        6 => TimeOfDay::parse_hhmmss(t).ok(),
        8 if t.as_bytes()[2] == b':' && t.as_bytes()[5] == b':' => {
            let joined: String = t.split(':').collect();
            (joined.len() == 6)
                .then(|| TimeOfDay::parse_hhmmss(&joined).ok())
                .flatten()
        }
        _ => None,
    }
}

fn bad(what: &str, field: &'static str, value: &str, e: NumError) -> WireError {
    if e == NumError::Empty {
        WireError::missing(what, field)
    } else {
        WireError::bad_value(what, field, value, e.expected())
    }
}

/// Blank text: a field Kiwoom left empty (or never sent).
pub fn is_blank(value: &str) -> bool {
    value.trim_ascii().is_empty()
}

/// A required whole number, sign kept, naming the TR/frame, field and value on failure
/// (a blank field is [`WireError::MissingField`]).
pub fn field_int(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    parse_int(value).map_err(|e| bad(what, field, value, e))
}

/// [`field_int`] for non-negative counts and quantities.
pub fn field_uint(what: &str, field: &'static str, value: &str) -> Result<u64, WireError> {
    parse_uint(value).map_err(|e| bad(what, field, value, e))
}

/// [`field_int`], blank read as `None`.
pub fn field_opt_int(
    what: &str,
    field: &'static str,
    value: &str,
) -> Result<Option<i64>, WireError> {
    if is_blank(value) {
        return Ok(None);
    }
    field_int(what, field, value).map(Some)
}

/// [`field_uint`], blank read as 0 (order numbers `"0000000"`/`""` when none).
pub fn field_uint_or_zero(what: &str, field: &'static str, value: &str) -> Result<u64, WireError> {
    if is_blank(value) {
        return Ok(0);
    }
    field_uint(what, field, value)
}

/// A required direction-marked number split into mark and magnitude.
pub fn field_marked(what: &str, field: &'static str, value: &str) -> Result<Marked, WireError> {
    parse_marked(value).map_err(|e| bad(what, field, value, e))
}

/// A price: the magnitude of a direction-marked field, 1 ..= `MAX_PRICE` won.
pub fn field_price(what: &str, field: &'static str, value: &str) -> Result<Price, WireError> {
    let m = field_marked(what, field, value)?;
    i64::try_from(m.magnitude)
        .ok()
        .and_then(|p| Price::new(p).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_PRICE))
}

/// A price that may be zero or blank (no best bid, a market order's `"0"` price): the
/// magnitude, blank read as 0.
pub fn field_price_or_zero(
    what: &str,
    field: &'static str,
    value: &str,
) -> Result<Price, WireError> {
    if is_blank(value) {
        return Ok(Price::lit(0));
    }
    let m = field_marked(what, field, value)?;
    i64::try_from(m.magnitude)
        .ok()
        .and_then(|p| Price::new_or_zero(p).ok())
        .ok_or_else(|| WireError::bad_value(what, field, value, EXPECT_PRICE_OR_ZERO))
}

/// A quantity (unsigned; a `+` is tolerated), 0 ..= `MAX_QTY` shares.
pub fn field_qty(what: &str, field: &'static str, value: &str) -> Result<Qty, WireError> {
    qty_in_range(what, field, value, field_uint(what, field, value)?)
}

/// A quantity, blank read as 0.
pub fn field_qty_or_zero(what: &str, field: &'static str, value: &str) -> Result<Qty, WireError> {
    qty_in_range(what, field, value, field_uint_or_zero(what, field, value)?)
}

/// `shares` as a [`Qty`], or the field's error when it is above `MAX_QTY`.
pub fn qty_in_range(
    what: &str,
    field: &'static str,
    value: &str,
    shares: u64,
) -> Result<Qty, WireError> {
    Qty::new(shares).map_err(|_| WireError::bad_value(what, field, value, EXPECT_QTY))
}

/// A day's cumulative volume, 0 ..= `MAX_CUM_VOLUME` shares.
pub fn field_cum_volume(what: &str, field: &'static str, value: &str) -> Result<u64, WireError> {
    check_cum_volume(field_uint(what, field, value)?)
        .map_err(|_| WireError::bad_value(what, field, value, EXPECT_CUM_VOLUME))
}

/// A signed amount or change (`"-00000000004900"`, `"+500"`): the sign is the value's.
pub fn field_signed(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    let m = field_marked(what, field, value)?;
    m.signed()
        .ok_or_else(|| WireError::bad_value(what, field, value, "a number within range"))
}

/// A two-decimal percentage in basis points (`"+0.71"` → 71, `"000000002.98"` → 298).
pub fn field_rate_bp(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    parse_fixed(value, 2).map_err(|e| bad(what, field, value, e))
}

/// A time of day, `HHmmss` or `HH:MM:SS`.
pub fn field_time(what: &str, field: &'static str, value: &str) -> Result<TimeOfDay, WireError> {
    if is_blank(value) {
        return Err(WireError::missing(what, field));
    }
    parse_time(value)
        .ok_or_else(|| WireError::bad_value(what, field, value, "a time HHmmss or HH:MM:SS"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiwoom::testing::Rng;

    #[test]
    fn every_pattern_of_the_reference_reads() {
        let ints = [
            ("70000", 70000),
            ("1", 1),
            ("+70000", 70000),
            ("-91200", -91200),
            ("-0", 0),
            ("000000000017534", 17534),
            ("-00000000000084", -84),
            ("000000000001", 1),
            ("000021850", 21850),
            ("+000072000", 72000),
            ("000001500", 1500),
            ("-00001500", -1500),
            ("0000000123759593", 123_759_593),
            ("00000197", 197),
            ("1,234,567", 1_234_567),
            ("-1,234", -1234),
            (" 42 ", 42),
        ];
        for (text, want) in ints {
            assert_eq!(parse_int(text), Ok(want), "{text:?}");
        }
        let rates = [
            ("+0.57", 57),
            ("-0.24", -24),
            ("0.00", 0),
            ("000000002.98", 298),
            ("000000089.36", 8936),
            ("000000000.00", 0),
            ("46.25", 4625),
            ("+12.34", 1234),
            ("98.92", 9892),
        ];
        for (text, want) in rates {
            assert_eq!(parse_fixed(text, 2), Ok(want), "{text:?}");
        }
        assert_eq!(parse_int(""), Err(NumError::Empty));
        assert_eq!(parse_int("+0.57"), Err(NumError::Fraction));
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "abc", "1e5", "+-5", "-+5", "--1", ",5", "1,", "1,,2", "1, 2", "+", "-", ".", "0x10",
            "１２", "12a", "1 2",
        ] {
            assert!(parse_int(bad).is_err(), "{bad:?}");
            assert!(parse_marked(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_uint("-1"), Err(NumError::Negative));
        assert_eq!(parse_uint("+5"), Ok(5));
        assert_eq!(parse_uint("-0"), Ok(0));
        assert_eq!(parse_int("9223372036854775808"), Err(NumError::OutOfRange));
        assert_eq!(parse_fixed("1.005", 2), Err(NumError::Fraction));
    }

    #[test]
    fn marks_are_directions_not_signs_of_prices() {
        let m = parse_marked("-91200").unwrap();
        assert_eq!((m.mark, m.magnitude), (Mark::Minus, 91200));
        assert_eq!(m.signed(), Some(-91200));
        assert_eq!(parse_marked("+82").unwrap().mark, Mark::Plus);
        assert_eq!(parse_marked("20850").unwrap().mark, Mark::None);
        assert_eq!(
            parse_marked("-0").unwrap(),
            Marked {
                mark: Mark::Minus,
                magnitude: 0
            }
        );
        assert_eq!(
            parse_marked("+000072000").unwrap(),
            Marked {
                mark: Mark::Plus,
                magnitude: 72000
            }
        );
        assert_eq!(
            field_price("REAL 0B values", "10", "-20800"),
            Ok(Price::lit(20800))
        );
        assert_eq!(field_signed("REAL 0B values", "11", "-50"), Ok(-50));
        let big = Marked {
            mark: Mark::Minus,
            magnitude: u64::MAX,
        };
        assert_eq!(big.signed(), None);
    }

    #[test]
    fn field_errors_name_the_field_and_value() {
        let e = field_price("REAL 0B values", "10", "-2O800").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("REAL 0B values") && msg.contains("`10`") && msg.contains("\"-2O800\""),
            "{msg}"
        );
        let e = field_price("REAL 0B values", "10", "-0").unwrap_err();
        assert!(e.to_string().contains("a price from 1 to"), "{e}");
        let e = field_qty("kt00018 row", "rmnd_qty", "").unwrap_err();
        assert_eq!(
            e,
            WireError::MissingField {
                what: "kt00018 row".into(),
                field: "rmnd_qty"
            }
        );
        let e = field_qty("kt00018 row", "rmnd_qty", "-000000000000001").unwrap_err();
        assert!(e.to_string().contains("non-negative"), "{e}");
        let e = field_rate_bp("kt00018 row", "prft_rt", "2.985").unwrap_err();
        assert!(e.to_string().contains("prft_rt"), "{e}");
        let e = field_time("REAL 00 values", "908", "25:00:00").unwrap_err();
        assert!(e.to_string().contains("`908`"), "{e}");
        assert_eq!(field_opt_int("x", "per", ""), Ok(None));
        assert_eq!(field_uint_or_zero("x", "904", ""), Ok(0));
        assert_eq!(field_uint_or_zero("x", "904", "0000000"), Ok(0));
        assert_eq!(field_price_or_zero("x", "28", ""), Ok(Price::lit(0)));
        assert_eq!(field_price_or_zero("x", "901", "0"), Ok(Price::lit(0)));
        assert!(field_price_or_zero("x", "901", "-99999999999999999999").is_err());
        assert!(field_signed("x", "a", "-99999999999999999999").is_err());
    }

    #[test]
    fn prices_and_quantities_are_held_to_what_krx_can_print() {
        let w = "REAL 0B values";
        assert_eq!(
            field_price(w, "10", "+99999000"),
            Ok(crate::market::MAX_PRICE)
        );
        for bad in ["+99999001", "-9223372036854775807", "+18446744073709551615"] {
            let e = field_price(w, "10", bad).unwrap_err().to_string();
            assert!(e.contains("`10`") && e.contains("99,999,000"), "{e}");
            assert!(field_price_or_zero(w, "27", bad).is_err(), "{bad}");
        }
        assert_eq!(field_qty(w, "900", "99999999"), Ok(crate::market::MAX_QTY));
        assert!(field_qty(w, "900", "100000000").is_err());
        assert!(field_qty_or_zero(w, "900", "18446744073709551615").is_err());
        assert_eq!(
            field_cum_volume(w, "13", "999999999999"),
            Ok(999_999_999_999)
        );
        assert!(field_cum_volume(w, "13", "1000000000000").is_err());
        assert!(field_cum_volume(w, "13", "-1").is_err());
    }

    #[test]
    fn encoding_matches_the_reference_and_reads_back() {
        assert_eq!(format_padded(17534, 15), "000000000017534");
        assert_eq!(format_padded(-84, 15), "-00000000000084");
        assert_eq!(format_padded(-4900, 15), "-00000000004900");
        assert_eq!(format_padded(1, 12), "000000000001");
        assert_eq!(format_padded(197, 8), "00000197");
        assert_eq!(format_padded(123_759_593, 16), "0000000123759593");
        assert_eq!(format_padded(21850, 9), "000021850");
        assert_eq!(format_padded(-1500, 9), "-00001500");
        assert_eq!(format_padded(1_000_000_000, 3), "1000000000");
        assert_eq!(format_signed_padded(72000, 9), "+000072000");
        assert_eq!(format_signed_padded(-1500, 8), "-00001500");
        assert_eq!(format_price_vs(70500, 70000), "+70500");
        assert_eq!(format_price_vs(69800, 70000), "-69800");
        assert_eq!(format_price_vs(70000, 70000), "70000");
        assert_eq!(format_signed(500), "+500");
        assert_eq!(format_signed(-50), "-50");
        assert_eq!(format_signed(0), "0");
        assert_eq!(format_rate(71), "+0.71");
        assert_eq!(format_rate(-24), "-0.24");
        assert_eq!(format_rate(0), "0.00");
        assert_eq!(format_padded_rate(298, 12), "000000002.98");
        assert_eq!(format_padded_rate(8936, 12), "000000089.36");
        for v in [i64::MIN + 1, -84, -1, 0, 1, 17534, i64::MAX] {
            assert_eq!(parse_int(&format_padded(v, 15)), Ok(v), "{v}");
            assert_eq!(parse_int(&format_signed_padded(v, 9)), Ok(v), "{v}");
            assert_eq!(parse_int(&format_signed(v)), Ok(v), "{v}");
        }
        for bp in [-10_000, -24, 0, 71, 298, 1_000_000] {
            assert_eq!(parse_fixed(&format_rate(bp), 2), Ok(bp));
            assert_eq!(parse_fixed(&format_padded_rate(bp, 12), 2), Ok(bp));
        }
    }

    #[test]
    fn rates_round_as_kiwoom_does() {
        assert_eq!(rate_bp(-50, 20_850), -24);
        assert_eq!(rate_bp(500, 70_000), 71);
        assert_eq!(rate_bp(5, 10_000), 5);
        assert_eq!(rate_bp(1, 20_000), 1, "0.5 bp rounds away from zero");
        assert_eq!(rate_bp(-1, 20_000), -1);
        assert_eq!(rate_bp(0, 70_000), 0);
        assert_eq!(rate_bp(7, 0), 0);
        assert_eq!(rate_bp(i64::MAX, 1), i64::MAX);
        assert_eq!(rate_bp(i64::MIN, 1), i64::MIN);
    }

    #[test]
    fn times_read_both_forms() {
        assert_eq!(parse_time("094022"), Some(TimeOfDay::hms(9, 40, 22)));
        assert_eq!(parse_time("13:05:43"), Some(TimeOfDay::hms(13, 5, 43)));
        for bad in [
            "", "9402", "0940220", "24:00:00", "13-05-43", "1:05:433", "ab:cd:ef",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    /// Seeded noise never panics a number reader, and what reads as an integer reads the
    /// same after a round trip through the padded writer.
    #[test]
    fn random_text_never_panics_the_number_readers() {
        let mut rng = Rng::new(0x5eed_0001);
        for _ in 0..20_000 {
            let t = rng.text(12);
            if let Ok(v) = parse_int(&t) {
                assert_eq!(parse_int(&format_padded(v, 15)), Ok(v), "{t:?}");
            }
            let _ = parse_uint(&t);
            let _ = parse_marked(&t);
            let _ = parse_fixed(&t, 2);
            let _ = parse_time(&t);
            let _ = field_price("x", "f", &t);
            let _ = field_signed("x", "f", &t);
            let _ = field_price_or_zero("x", "f", &t);
        }
    }
}
