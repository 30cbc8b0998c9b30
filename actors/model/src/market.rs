//! KRX market rules and the trader's basic types: `Ticker`, `Price`, `Qty`, `Side`,
//! `Market`, the tick grid, the ±30% daily limits and regular session hours.
//!
//! Owns every KRX rule in one place so the engine, the risk gate and the embedded
//! exchange agree. Must never use floats for money and never panic on bad input:
//! every rejection is a typed [`MarketError`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a ticker, price, quantity or time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    #[error("bad ticker {input:?}: {reason}")]
    BadTicker { input: String, reason: &'static str },
    #[error("price {price} is not positive")]
    NonPositivePrice { price: i64 },
    #[error("price {price} is off the tick grid (tick {tick} won at that price)")]
    OffGrid { price: i64, tick: i64 },
    #[error("price {price} is above the upper limit {upper}")]
    AboveUpperLimit { price: i64, upper: i64 },
    #[error("price {price} is below the lower limit {lower}")]
    BelowLowerLimit { price: i64, lower: i64 },
    #[error("price {price} is above {max}, the highest price KRX can print")]
    PriceTooHigh { price: i64, max: i64 },
    #[error("quantity must be at least one share")]
    ZeroQty,
    #[error("quantity {qty} is above {max} shares, the most one order or trade can carry")]
    QtyTooLarge { qty: u64, max: u64 },
    #[error("cumulative volume {volume} is above {max} shares, the most a day can print")]
    VolumeTooLarge { volume: u64, max: u64 },
    #[error("bad time of day {input:?}: expected HHMMSS")]
    BadTime { input: String },
}

/// A six-digit KRX short code (단축코드), e.g. `005930`. Validated on construction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticker([u8; 6]);

impl Ticker {
    /// Parses exactly six ASCII digits.
    pub fn parse(input: &str) -> Result<Ticker, MarketError> {
        let bytes = input.as_bytes();
        if bytes.len() != 6 {
            return Err(MarketError::BadTicker {
                input: input.to_owned(),
                reason: "expected six digits",
            });
        }
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(MarketError::BadTicker {
                input: input.to_owned(),
                reason: "expected ASCII digits only",
            });
        }
        let mut code = [0u8; 6];
        code.copy_from_slice(bytes);
        Ok(Ticker(code))
    }

    /// Parses LS's `IsuNo`/`shtnIsuno` forms: `005930` or `A005930` (the `A` marks a stock).
    pub fn parse_isu_no(input: &str) -> Result<Ticker, MarketError> {
        Ticker::parse(input.strip_prefix('A').unwrap_or(input))
    }

    /// The six ASCII digits as stored (no UTF-8 check, unlike [`Ticker::as_str`]).
    pub fn digits(&self) -> &[u8; 6] {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).expect("ticker holds ASCII digits")
    }

    /// LS's short issue number for a stock: `A` + code.
    pub fn shtn_isu_no(&self) -> String {
        format!("A{}", self.as_str())
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticker({})", self.as_str())
    }
}

impl FromStr for Ticker {
    type Err = MarketError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ticker::parse(s)
    }
}

impl Serialize for Ticker {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Ticker {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ticker::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The highest price a KRX stock can print: LS writes trade and quote prices in eight
/// digits (S3_/K3_ `price`, t1102 `price` N8, reference §4.8, §5.5), and at 500,000 won and
/// above KRX's grid steps by 1,000 won, so 99,999,000 is the highest grid price that fits.
/// The dearest stocks ever listed traded at a few million won; a price above this is not
/// a price but a broken or hostile frame.
pub const MAX_PRICE: Price = Price(99_999_000);

/// The most shares one order or one trade can carry: LS writes a trade's quantity
/// (`cvolume`) in eight digits (§5.5), so 99,999,999. KRX caps an order lower still (a
/// share of the listed shares; the exact rule is UNCONFIRMED here), so the field's width
/// is the bound condor can cite. Orders are held to it as well.
pub const MAX_QTY: Qty = Qty(99_999_999);

/// The most shares a stock can trade in a day: LS writes the cumulative volume (S3_/K3_
/// `volume`, t1102 `volume`) in twelve digits (§4.8, §5.5).
pub const MAX_CUM_VOLUME: u64 = 999_999_999_999;

/// A price in integer won: 0 ("no price") ..= [`MAX_PRICE`]. The field is private, so a
/// `Price` cannot hold a value KRX cannot print; every product of a price and a quantity
/// fits an `i64`.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, Serialize, Deserialize,
)]
// The same JSON number as ever, but read through `new_or_zero`: a journal or tape
// holding a price out of range is refused, not loaded.
#[serde(try_from = "i64", into = "i64")]
pub struct Price(i64);

impl Price {
    /// "No price": a market order's limit, a blank best bid.
    pub const ZERO: Price = Price(0);

    /// A trade or order price: 1 ..= [`MAX_PRICE`] won. Every number that enters condor as
    /// a price goes through here (or [`Price::new_or_zero`]), so arithmetic on a price
    /// never meets a value KRX cannot print.
    pub fn new(won: i64) -> Result<Price, MarketError> {
        if won <= 0 {
            Err(MarketError::NonPositivePrice { price: won })
        } else {
            Price::new_or_zero(won)
        }
    }

    /// [`Price::new`] that also takes 0, where the wire writes 0 for "none" (a market
    /// order's price, a missing best bid, a zero-filled reply).
    pub fn new_or_zero(won: i64) -> Result<Price, MarketError> {
        if won < 0 {
            Err(MarketError::NonPositivePrice { price: won })
        } else if won > MAX_PRICE.0 {
            Err(MarketError::PriceTooHigh {
                price: won,
                max: MAX_PRICE.0,
            })
        } else {
            Ok(Price(won))
        }
    }

    /// A price written in the source: a constant, a test's, the simulator's fixed books.
    /// Panics outside 0 ..= [`MAX_PRICE`] (a compile error in a `const`). Never for a
    /// number that came from outside: that goes through [`Price::new`].
    pub const fn lit(won: i64) -> Price {
        assert!(
            0 <= won && won <= MAX_PRICE.0,
            "a price literal is 0 ..= 99,999,000 won"
        );
        Price(won)
    }

    pub const fn won(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for Price {
    type Error = MarketError;
    fn try_from(won: i64) -> Result<Price, MarketError> {
        Price::new_or_zero(won)
    }
}

impl From<Price> for i64 {
    fn from(p: Price) -> i64 {
        p.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A quantity in whole shares: 0 ..= [`MAX_QTY`]. The field is private, so a sum of fills
/// or holdings that would pass the bound is an explicit `None` at the sum
/// ([`Qty::checked_add`]), never a silent wrap.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default, Serialize, Deserialize,
)]
#[serde(try_from = "u64", into = "u64")]
pub struct Qty(u64);

impl Qty {
    /// Nothing: no fill, nothing left, no holding.
    pub const ZERO: Qty = Qty(0);

    /// A quantity of an order, a trade or a holding: 0 ..= [`MAX_QTY`] shares (zero is a
    /// quantity: nothing left, nothing filled; [`check_qty`] refuses it for an order).
    pub fn new(shares: u64) -> Result<Qty, MarketError> {
        if shares > MAX_QTY.0 {
            Err(MarketError::QtyTooLarge {
                qty: shares,
                max: MAX_QTY.0,
            })
        } else {
            Ok(Qty(shares))
        }
    }

    /// A quantity written in the source: a constant, a test's, the simulator's fixed
    /// books. Panics above [`MAX_QTY`] (a compile error in a `const`). Never for a number
    /// that came from outside: that goes through [`Qty::new`].
    pub const fn lit(shares: u64) -> Qty {
        assert!(
            shares <= MAX_QTY.0,
            "a quantity literal is 0 ..= 99,999,999 shares"
        );
        Qty(shares)
    }

    pub const fn shares(self) -> u64 {
        self.0
    }

    /// `self + other`, or `None` above [`MAX_QTY`].
    pub fn checked_add(self, other: Qty) -> Option<Qty> {
        Qty::new(self.0 + other.0).ok() // both ≤ MAX_QTY: the u64 sum cannot wrap
    }

    /// `self + other`, held at [`MAX_QTY`]: for a total that only bounds a check (shares
    /// working), where more than an order can carry already fails it.
    pub fn saturating_add(self, other: Qty) -> Qty {
        Qty((self.0 + other.0).min(MAX_QTY.0))
    }

    /// `self - other`, or `None` below zero.
    pub fn checked_sub(self, other: Qty) -> Option<Qty> {
        self.0.checked_sub(other.0).map(Qty)
    }

    /// `self - other`, or zero below zero.
    pub fn saturating_sub(self, other: Qty) -> Qty {
        Qty(self.0.saturating_sub(other.0))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl TryFrom<u64> for Qty {
    type Error = MarketError;
    fn try_from(shares: u64) -> Result<Qty, MarketError> {
        Qty::new(shares)
    }
}

impl From<Qty> for u64 {
    fn from(q: Qty) -> u64 {
        q.0
    }
}

/// A day's cumulative volume: 0 ..= [`MAX_CUM_VOLUME`] shares.
pub fn check_cum_volume(volume: u64) -> Result<u64, MarketError> {
    if volume > MAX_CUM_VOLUME {
        Err(MarketError::VolumeTooLarge {
            volume,
            max: MAX_CUM_VOLUME,
        })
    } else {
        Ok(volume)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Price × quantity in won. Both are bounded, so the largest product (about 10^16) fits an
/// `i64` with room for hundreds of them summed.
pub fn notional(price: Price, qty: Qty) -> i64 {
    // qty ≤ MAX_QTY < 2^27, so the cast is exact.
    price.0 * qty.0 as i64
}

/// `price` against `base` in basis points, truncated toward zero; 0 when `base` is 0.
/// Both ≤ [`MAX_PRICE`], so the product fits an `i64`.
pub fn change_bp(price: Price, base: Price) -> i64 {
    if base.0 == 0 {
        return 0;
    }
    (price.0 - base.0) * 10_000 / base.0
}

/// Buy or sell.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// LS `BnsTpCode` / `bnstp`: `1` sell, `2` buy.
    pub fn ls_code(self) -> &'static str {
        match self {
            Side::Sell => "1",
            Side::Buy => "2",
        }
    }

    pub fn from_ls_code(code: &str) -> Option<Side> {
        match code {
            "1" => Some(Side::Sell),
            "2" => Some(Side::Buy),
            _ => None,
        }
    }

    /// The Korean label LS uses in t0425 `medosu`.
    pub fn ls_label(self) -> &'static str {
        match self {
            Side::Sell => "매도",
            Side::Buy => "매수",
        }
    }
}

/// The KRX market a stock is listed on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Market {
    Kospi,
    Kosdaq,
}

impl Market {
    /// t8436 `gubun`: `1` KOSPI, `2` KOSDAQ (clients compare these as strings).
    pub fn gubun(self) -> &'static str {
        match self {
            Market::Kospi => "1",
            Market::Kosdaq => "2",
        }
    }

    /// The realtime trade TR for this market: `S3_` (KOSPI) or `K3_` (KOSDAQ).
    pub fn trade_tr(self) -> &'static str {
        match self {
            Market::Kospi => "S3_",
            Market::Kosdaq => "K3_",
        }
    }

    /// Order-market code in SC0/SC1 (`marketgb`, `ordmktcode`): `10` KOSPI, `20` KOSDAQ.
    pub fn order_market_code(self) -> &'static str {
        match self {
            Market::Kospi => "10",
            Market::Kosdaq => "20",
        }
    }

    /// t1102 `janginfo`.
    pub fn name(self) -> &'static str {
        match self {
            Market::Kospi => "KOSPI",
            Market::Kosdaq => "KOSDAQ",
        }
    }
}

/// KRX tick size (호가가격단위) at `price`, one table for KOSPI and KOSDAQ since 2023-01-25.
/// Non-positive prices get the smallest tick, so callers can validate separately.
pub fn tick_size(price: Price) -> i64 {
    match price.0 {
        i64::MIN..=1_999 => 1,
        2_000..=4_999 => 5,
        5_000..=19_999 => 10,
        20_000..=49_999 => 50,
        50_000..=199_999 => 100,
        200_000..=499_999 => 500,
        _ => 1_000,
    }
}

/// True when `price` is positive and a multiple of its band's tick.
pub fn is_on_grid(price: Price) -> bool {
    price.0 > 0 && price.0 % tick_size(price) == 0
}

/// Which way to move an off-grid price onto the grid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rounding {
    Down,
    Up,
    Nearest,
}

/// Moves a `price` onto the tick grid (0 goes to 1). Every band edge is a multiple of the
/// tick of the band below it, so rounding never skips a band; [`MAX_PRICE`] is on the
/// grid, so rounding up never leaves the range.
pub fn round_to_grid(price: Price, rounding: Rounding) -> Price {
    let p = price.0.max(1);
    let tick = tick_size(Price(p));
    let down = p - p % tick;
    if down == p {
        return Price(p);
    }
    let up = down + tick;
    match rounding {
        Rounding::Down => Price(down.max(1)),
        Rounding::Up => Price(up),
        Rounding::Nearest => {
            if p - down < up - p {
                Price(down.max(1))
            } else {
                Price(up)
            }
        }
    }
}

/// The next grid price above an on-grid `price`, or `None` above [`MAX_PRICE`]: there is
/// no higher price to ask for.
pub fn tick_up(price: Price) -> Option<Price> {
    Price::new(price.0 + tick_size(price)).ok()
}

/// The next grid price below an on-grid `price` (the tick of the band just below applies
/// at a band edge: 2,000 → 1,999, 5,000 → 4,995), never below 1.
pub fn tick_down(price: Price) -> Price {
    let tick = tick_size(Price(price.0 - 1));
    Price((price.0 - tick).max(1))
}

/// Rejects a zero or off-grid price.
pub fn check_grid(price: Price) -> Result<(), MarketError> {
    Price::new(price.0)?;
    let tick = tick_size(price);
    if price.0 % tick != 0 {
        return Err(MarketError::OffGrid {
            price: price.0,
            tick,
        });
    }
    Ok(())
}

/// The day's price band: ±30% of the base price (기준가, normally the previous close),
/// each limit on the grid and rounded toward the base (base 4,525 → 5,880 / 3,170).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DailyLimits {
    pub base: Price,
    pub upper: Price,
    pub lower: Price,
}

impl DailyLimits {
    /// The band around `base`. An upper limit above [`MAX_PRICE`] is held there: no
    /// price above it can print (only a base above 76,922,000 won gets there).
    pub fn from_base(base: Price) -> DailyLimits {
        let b = base.0.max(1);
        let scaled = |num: i64, add: i64| Price(((b * num + add) / 10).min(MAX_PRICE.0));
        let upper = round_to_grid(scaled(13, 0), Rounding::Down);
        // ceil(b * 0.7) in integers, then up onto the grid.
        let lower = round_to_grid(scaled(7, 9), Rounding::Up);
        DailyLimits {
            base: Price(b),
            upper,
            lower,
        }
    }

    pub fn contains(&self, price: Price) -> bool {
        self.lower <= price && price <= self.upper
    }

    /// Rejects a price outside the band.
    pub fn check(&self, price: Price) -> Result<(), MarketError> {
        if price > self.upper {
            Err(MarketError::AboveUpperLimit {
                price: price.0,
                upper: self.upper.0,
            })
        } else if price < self.lower {
            Err(MarketError::BelowLowerLimit {
                price: price.0,
                lower: self.lower.0,
            })
        } else {
            Ok(())
        }
    }

    pub fn clamp(&self, price: Price) -> Price {
        price.max(self.lower).min(self.upper)
    }
}

/// A limit price a KRX order may carry: on the grid and inside the day's band.
pub fn check_order_price(price: Price, limits: &DailyLimits) -> Result<(), MarketError> {
    check_grid(price)?;
    limits.check(price)
}

/// Rejects a zero quantity.
pub fn check_qty(qty: Qty) -> Result<(), MarketError> {
    // Above MAX_QTY cannot be held by a `Qty`.
    if qty.0 == 0 {
        Err(MarketError::ZeroQty)
    } else {
        Ok(())
    }
}

/// A time of day in KST, to the second; the wire carries it as `HHMMSS`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    pub const fn hms(h: u32, m: u32, s: u32) -> TimeOfDay {
        TimeOfDay(h * 3600 + m * 60 + s)
    }

    pub fn from_secs(secs: u32) -> TimeOfDay {
        TimeOfDay(secs % 86_400)
    }

    pub fn secs(self) -> u32 {
        self.0
    }

    /// Parses `HHMMSS` (24-hour).
    pub fn parse_hhmmss(input: &str) -> Result<TimeOfDay, MarketError> {
        let bad = || MarketError::BadTime {
            input: input.to_owned(),
        };
        if input.len() != 6 || !input.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| input[r].parse::<u32>().map_err(|_| bad());
        let (h, m, s) = (n(0..2)?, n(2..4)?, n(4..6)?);
        if h > 23 || m > 59 || s > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay::hms(h, m, s))
    }

    /// `HHMMSS`.
    pub fn hhmmss(self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.0 / 3600,
            self.0 / 60 % 60,
            self.0 % 60
        )
    }
}

/// Journaled as `"HH:MM:SS"`, the way a person reads it.
impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let b = s.as_bytes();
        if b.len() != 8 || b[2] != b':' || b[5] != b':' {
            return Err(serde::de::Error::custom(format!(
                "time {s:?} is not HH:MM:SS"
            )));
        }
        let hhmmss: String = s.chars().filter(|c| *c != ':').collect();
        TimeOfDay::parse_hhmmss(&hhmmss).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.0 / 3600,
            self.0 / 60 % 60,
            self.0 % 60
        )
    }
}

/// Regular session (정규장) open, 09:00 KST.
pub const REGULAR_OPEN: TimeOfDay = TimeOfDay::hms(9, 0, 0);
/// Start of the closing call auction, 15:20 KST.
pub const CLOSING_AUCTION: TimeOfDay = TimeOfDay::hms(15, 20, 0);
/// Regular session close, 15:30 KST.
pub const REGULAR_CLOSE: TimeOfDay = TimeOfDay::hms(15, 30, 0);

/// Where the trading day stands at a moment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SessionPhase {
    /// Before 09:00.
    PreOpen,
    /// 09:00 – 15:20: continuous trading.
    Continuous,
    /// 15:20 – 15:30: closing call auction.
    ClosingAuction,
    /// From 15:30.
    Closed,
}

pub fn session_phase(t: TimeOfDay) -> SessionPhase {
    if t < REGULAR_OPEN {
        SessionPhase::PreOpen
    } else if t < CLOSING_AUCTION {
        SessionPhase::Continuous
    } else if t < REGULAR_CLOSE {
        SessionPhase::ClosingAuction
    } else {
        SessionPhase::Closed
    }
}

/// True inside the regular session, 09:00 ≤ t < 15:30.
pub fn is_regular_session(t: TimeOfDay) -> bool {
    REGULAR_OPEN <= t && t < REGULAR_CLOSE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticker_accepts_six_digits_only() {
        assert_eq!(Ticker::parse("005930").unwrap().as_str(), "005930");
        assert!(matches!(
            Ticker::parse("05930"),
            Err(MarketError::BadTicker { .. })
        ));
        assert!(Ticker::parse("0059300").is_err());
        assert!(Ticker::parse("00593A").is_err());
        assert!(Ticker::parse("").is_err());
        assert!(Ticker::parse("００５９３０").is_err(), "full-width digits");
        assert_eq!(
            Ticker::parse_isu_no("A005930").unwrap(),
            Ticker::parse_isu_no("005930").unwrap()
        );
        assert!(Ticker::parse_isu_no("AA005930").is_err());
        assert_eq!(Ticker::parse("000660").unwrap().shtn_isu_no(), "A000660");
    }

    #[test]
    fn ticker_error_names_the_input() {
        let e = Ticker::parse("12345").unwrap_err().to_string();
        assert!(e.contains("\"12345\""), "{e}");
    }

    #[test]
    fn ticker_serde_is_a_string_and_validates() {
        let t: Ticker = serde_json::from_str("\"035720\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"035720\"");
        assert!(serde_json::from_str::<Ticker>("\"3572\"").is_err());
    }

    #[test]
    fn tick_size_at_every_band_edge() {
        let cases = [
            (1, 1),
            (1_999, 1),
            (2_000, 5),
            (4_999, 5),
            (5_000, 10),
            (19_999, 10),
            (20_000, 50),
            (49_999, 50),
            (50_000, 100),
            (199_999, 100),
            (200_000, 500),
            (499_999, 500),
            (500_000, 1_000),
            (3_000_000, 1_000),
        ];
        for (p, tick) in cases {
            assert_eq!(tick_size(Price(p)), tick, "tick at {p}");
        }
    }

    #[test]
    fn grid_membership_at_band_edges() {
        for p in [
            1, 1_999, 2_000, 2_005, 4_995, 5_000, 5_010, 19_990, 20_000, 49_950,
        ] {
            assert!(is_on_grid(Price(p)), "{p} on grid");
        }
        for p in [
            2_001, 2_004, 4_999, 5_005, 19_995, 20_010, 49_990, 50_050, 200_100, 500_500,
        ] {
            assert!(!is_on_grid(Price(p)), "{p} off grid");
        }
        assert!(is_on_grid(Price(50_000)) && is_on_grid(Price(500_000)));
        assert!(!is_on_grid(Price(0)));
    }

    #[test]
    fn rounding_onto_the_grid() {
        assert_eq!(round_to_grid(Price(2_003), Rounding::Down), Price(2_000));
        assert_eq!(round_to_grid(Price(2_003), Rounding::Up), Price(2_005));
        assert_eq!(round_to_grid(Price(2_003), Rounding::Nearest), Price(2_005));
        assert_eq!(round_to_grid(Price(2_002), Rounding::Nearest), Price(2_000));
        // Up from just below a band edge lands on the edge, which is on both grids.
        assert_eq!(round_to_grid(Price(4_999), Rounding::Up), Price(5_000));
        assert_eq!(round_to_grid(Price(19_999), Rounding::Up), Price(20_000));
        assert_eq!(round_to_grid(Price(49_999), Rounding::Up), Price(50_000));
        assert_eq!(round_to_grid(Price(199_999), Rounding::Up), Price(200_000));
        assert_eq!(round_to_grid(Price(499_999), Rounding::Up), Price(500_000));
        assert_eq!(
            round_to_grid(Price(499_999), Rounding::Down),
            Price(499_500)
        );
        assert_eq!(round_to_grid(Price(55_550), Rounding::Down), Price(55_500));
        assert_eq!(
            round_to_grid(Price(55_550), Rounding::Nearest),
            Price(55_600)
        );
        assert_eq!(round_to_grid(Price(1_999), Rounding::Down), Price(1_999));
        assert_eq!(round_to_grid(Price(0), Rounding::Down), Price(1));
        for p in 1..60_000 {
            for r in [Rounding::Down, Rounding::Up, Rounding::Nearest] {
                let q = round_to_grid(Price(p), r);
                assert!(is_on_grid(q), "{p} {r:?} -> {q}");
                assert!(
                    (q.0 - p).abs() < tick_size(Price(p.max(q.0))),
                    "{p} {r:?} -> {q}"
                );
            }
        }
    }

    #[test]
    fn tick_steps_cross_band_edges() {
        assert_eq!(tick_up(Price(1_999)), Some(Price(2_000)));
        assert_eq!(tick_up(Price(2_000)), Some(Price(2_005)));
        assert_eq!(tick_down(Price(2_000)), Price(1_999));
        assert_eq!(tick_down(Price(5_000)), Price(4_995));
        assert_eq!(tick_down(Price(20_000)), Price(19_990));
        assert_eq!(tick_down(Price(50_000)), Price(49_950));
        assert_eq!(tick_down(Price(200_000)), Price(199_900));
        assert_eq!(tick_down(Price(500_000)), Price(499_500));
        assert_eq!(tick_up(Price(499_500)), Some(Price(500_000)));
        assert_eq!(tick_down(Price(1)), Price(1));
    }

    #[test]
    fn check_grid_is_typed() {
        assert_eq!(
            check_grid(Price(20_010)),
            Err(MarketError::OffGrid {
                price: 20_010,
                tick: 50
            })
        );
        assert_eq!(
            check_grid(Price(0)),
            Err(MarketError::NonPositivePrice { price: 0 })
        );
        assert!(check_grid(Price(20_050)).is_ok());
    }

    /// Found by the fuzz harness's core target: a strategy's entry at a decoded price near
    /// i64's end overflowed the grid and the band. A `Price` cannot hold such a price now;
    /// at the top of the range the grid holds and the band stays inside it.
    #[test]
    fn the_grid_and_the_band_hold_the_highest_price() {
        assert_eq!(round_to_grid(MAX_PRICE, Rounding::Up), MAX_PRICE);
        assert_eq!(
            round_to_grid(Price(MAX_PRICE.0 - 1), Rounding::Up),
            MAX_PRICE
        );
        assert_eq!(tick_up(MAX_PRICE), None, "no price above the highest");
        assert_eq!(tick_up(Price(MAX_PRICE.0 - 1_000)), Some(MAX_PRICE));
        let l = DailyLimits::from_base(MAX_PRICE);
        assert!(l.lower < l.upper, "{l:?}");
        assert_eq!(l.upper, MAX_PRICE, "held at the highest printable price");
    }

    #[test]
    fn daily_limits_match_the_reference_example() {
        let l = DailyLimits::from_base(Price(4_525));
        assert_eq!((l.upper, l.lower), (Price(5_880), Price(3_170)));
    }

    #[test]
    fn daily_limits_round_toward_the_base_and_stay_on_grid() {
        // 55,500 × 1.3 = 72,150 → 72,100; × 0.7 = 38,850 (tick 50, on the grid).
        let l = DailyLimits::from_base(Price(55_500));
        assert_eq!((l.upper, l.lower), (Price(72_100), Price(38_850)));
        // Exactly on the grid: 10,000 → 13,000 / 7,000.
        let l = DailyLimits::from_base(Price(10_000));
        assert_eq!((l.upper, l.lower), (Price(13_000), Price(7_000)));
        // The upper limit crosses into a coarser band: 160,000 × 1.3 = 208,000 (tick 500).
        let l = DailyLimits::from_base(Price(160_000));
        assert_eq!((l.upper, l.lower), (Price(208_000), Price(112_000)));
        // 1,001 × 0.7 = 700.7 → 701; × 1.3 = 1,301.3 → 1,301.
        let l = DailyLimits::from_base(Price(1_001));
        assert_eq!((l.upper, l.lower), (Price(1_301), Price(701)));
        for base in (1_000..600_000).step_by(37) {
            let l = DailyLimits::from_base(Price(base));
            assert!(is_on_grid(l.upper) && is_on_grid(l.lower), "base {base}");
            assert!(l.upper.0 * 10 <= base * 13, "upper within 30% of {base}");
            assert!(l.lower.0 * 10 >= base * 7, "lower within 30% of {base}");
            assert!(
                tick_up(l.upper).unwrap().0 * 10 > base * 13,
                "upper is the highest for {base}"
            );
            assert!(
                tick_down(l.lower).0 * 10 < base * 7,
                "lower is the lowest for {base}"
            );
        }
    }

    #[test]
    fn order_price_checks_grid_then_limits() {
        let l = DailyLimits::from_base(Price(10_000));
        assert!(check_order_price(Price(13_000), &l).is_ok());
        assert!(check_order_price(Price(7_000), &l).is_ok());
        assert_eq!(
            check_order_price(Price(13_010), &l),
            Err(MarketError::AboveUpperLimit {
                price: 13_010,
                upper: 13_000
            })
        );
        assert_eq!(
            check_order_price(Price(6_990), &l),
            Err(MarketError::BelowLowerLimit {
                price: 6_990,
                lower: 7_000
            })
        );
        assert!(matches!(
            check_order_price(Price(10_005), &l),
            Err(MarketError::OffGrid { .. })
        ));
        assert_eq!(l.clamp(Price(99_999)), Price(13_000));
    }

    #[test]
    fn qty_and_notional() {
        assert_eq!(check_qty(Qty(0)), Err(MarketError::ZeroQty));
        assert!(check_qty(Qty(1)).is_ok());
        assert_eq!(notional(Price(55_500), Qty(10)), 555_000);
        assert_eq!(
            notional(MAX_PRICE, MAX_QTY),
            99_999_000 * 99_999_999,
            "the largest product fits"
        );
    }

    #[test]
    fn constructors_hold_only_what_krx_can_print() {
        assert_eq!(Price::new(55_500), Ok(Price(55_500)));
        assert_eq!(Price::new(MAX_PRICE.0), Ok(MAX_PRICE));
        assert_eq!(
            Price::new(MAX_PRICE.0 + 1),
            Err(MarketError::PriceTooHigh {
                price: MAX_PRICE.0 + 1,
                max: MAX_PRICE.0
            })
        );
        assert!(Price::new(i64::MAX).is_err());
        assert_eq!(
            Price::new(0),
            Err(MarketError::NonPositivePrice { price: 0 })
        );
        assert!(Price::new(i64::MIN).is_err());
        assert_eq!(Price::new_or_zero(0), Ok(Price::ZERO));
        assert!(Price::new_or_zero(-1).is_err() && Price::new_or_zero(i64::MAX).is_err());
        assert!(is_on_grid(MAX_PRICE), "the highest price is a grid price");
        const { assert!(MAX_PRICE.0 < 100_000_000, "eight digits") };
        assert_eq!(Qty::new(0), Ok(Qty(0)));
        assert_eq!(Qty::new(MAX_QTY.0), Ok(MAX_QTY));
        assert_eq!(
            Qty::new(u64::MAX),
            Err(MarketError::QtyTooLarge {
                qty: u64::MAX,
                max: MAX_QTY.0
            })
        );
        assert_eq!(check_cum_volume(MAX_CUM_VOLUME), Ok(MAX_CUM_VOLUME));
        assert!(check_cum_volume(MAX_CUM_VOLUME + 1).is_err());
        let e = Price::new(i64::MAX).unwrap_err().to_string();
        assert!(
            e.contains("9223372036854775807") && e.contains("99999000"),
            "{e}"
        );
    }

    #[test]
    fn change_bp_at_the_ends_of_the_range() {
        assert_eq!(change_bp(Price(10_100), Price(10_000)), 100);
        assert_eq!(change_bp(Price(9_950), Price(10_000)), -50);
        assert_eq!(change_bp(Price(1), Price(0)), 0);
        assert_eq!(change_bp(MAX_PRICE, MAX_PRICE), 0);
        assert_eq!(change_bp(Price(0), MAX_PRICE), -10_000);
        assert_eq!(change_bp(Price(1), MAX_PRICE), -9_999);
        assert_eq!(change_bp(MAX_PRICE, Price(1)), (MAX_PRICE.0 - 1) * 10_000);
    }

    #[test]
    fn grid_arithmetic_at_the_bounds_stays_in_range() {
        assert_eq!(tick_up(MAX_PRICE), None);
        assert_eq!(tick_down(MAX_PRICE), Price(MAX_PRICE.0 - 1_000));
        assert_eq!(tick_down(Price::ZERO), Price(1));
        assert_eq!(round_to_grid(Price::ZERO, Rounding::Down), Price(1));
        assert_eq!(
            round_to_grid(Price(MAX_PRICE.0 - 1), Rounding::Nearest),
            MAX_PRICE
        );
        for base in [1, 76_922_000, 76_923_000, MAX_PRICE.0] {
            let l = DailyLimits::from_base(Price(base));
            assert!(
                l.lower.0 > 0 && l.lower <= l.base && l.base <= l.upper && l.upper <= MAX_PRICE,
                "base {base}: {l:?}"
            );
            assert!(
                is_on_grid(l.upper) && is_on_grid(l.lower),
                "base {base}: {l:?}"
            );
        }
        let l = DailyLimits::from_base(MAX_PRICE);
        assert_eq!((l.upper, l.lower), (MAX_PRICE, Price(70_000_000)));
        assert!(check_qty(MAX_QTY).is_ok());
    }

    #[test]
    fn literals_hold_the_range() {
        const TOP: Price = Price::lit(99_999_000);
        assert_eq!(TOP, MAX_PRICE);
        assert_eq!(Price::lit(0), Price::ZERO);
        assert_eq!(Qty::lit(99_999_999), MAX_QTY);
        assert!(std::panic::catch_unwind(|| Price::lit(99_999_001)).is_err());
        assert!(std::panic::catch_unwind(|| Price::lit(-1)).is_err());
        assert!(std::panic::catch_unwind(|| Qty::lit(100_000_000)).is_err());
    }

    #[test]
    fn qty_sums_stop_at_the_bound() {
        assert_eq!(Qty(3).checked_add(Qty(4)), Some(Qty(7)));
        assert_eq!(MAX_QTY.checked_add(Qty(0)), Some(MAX_QTY));
        assert_eq!(MAX_QTY.checked_add(Qty(1)), None);
        assert_eq!(MAX_QTY.checked_add(MAX_QTY), None);
        assert_eq!(Qty(4).checked_sub(Qty(3)), Some(Qty(1)));
        assert_eq!(Qty(3).checked_sub(Qty(4)), None);
        assert_eq!(Qty(3).saturating_sub(Qty(4)), Qty::ZERO);
        assert_eq!(MAX_QTY.saturating_add(Qty(1)), MAX_QTY);
        assert_eq!(Qty(3).saturating_add(Qty(4)), Qty(7));
        assert!(Qty::ZERO.is_zero() && !Qty(1).is_zero());
    }

    /// The JSON is the bare number it always was, and reading goes through the
    /// constructors: a journal or tape line out of range is an error naming the bound.
    #[test]
    fn serde_is_the_bare_number_and_checks_the_range() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Line {
            price: Price,
            qty: Qty,
        }
        let line = Line {
            price: Price(55_500),
            qty: Qty(10),
        };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, r#"{"price":55500,"qty":10}"#);
        assert_eq!(serde_json::from_str::<Line>(&json).unwrap(), line);
        let market: Line = serde_json::from_str(r#"{"price":0,"qty":1}"#).unwrap();
        assert_eq!(market.price, Price::ZERO, "a market order's price reads");
        let e = serde_json::from_str::<Line>(r#"{"price":99999001,"qty":1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("price 99999001 is above 99999000"), "{e}");
        let e = serde_json::from_str::<Line>(r#"{"price":-1,"qty":1}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("price -1 is not positive"), "{e}");
        let e = serde_json::from_str::<Line>(r#"{"price":1,"qty":100000000}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("quantity 100000000 is above 99999999"), "{e}");
    }

    #[test]
    fn side_codes() {
        assert_eq!(Side::Buy.ls_code(), "2");
        assert_eq!(Side::from_ls_code("1"), Some(Side::Sell));
        assert_eq!(Side::from_ls_code("3"), None);
        assert_eq!(Market::Kosdaq.trade_tr(), "K3_");
        assert_eq!(Market::Kospi.gubun(), "1");
    }

    #[test]
    fn session_hours() {
        let t = |s| TimeOfDay::parse_hhmmss(s).unwrap();
        assert_eq!(session_phase(t("085959")), SessionPhase::PreOpen);
        assert_eq!(session_phase(t("090000")), SessionPhase::Continuous);
        assert_eq!(session_phase(t("151959")), SessionPhase::Continuous);
        assert_eq!(session_phase(t("152000")), SessionPhase::ClosingAuction);
        assert_eq!(session_phase(t("152959")), SessionPhase::ClosingAuction);
        assert_eq!(session_phase(t("153000")), SessionPhase::Closed);
        assert!(!is_regular_session(t("085959")));
        assert!(is_regular_session(t("090000")));
        assert!(is_regular_session(t("152959")));
        assert!(!is_regular_session(t("153000")));
        assert_eq!(t("093005").hhmmss(), "093005");
        assert_eq!(t("093005").to_string(), "09:30:05");
        for bad in ["2400000", "240000", "096000", "090060", "9000", "09:00:00"] {
            assert!(TimeOfDay::parse_hhmmss(bad).is_err(), "{bad}");
        }
    }
}
