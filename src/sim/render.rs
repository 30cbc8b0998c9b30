//! Renders the exchange's events as LS realtime frames: S3_/K3_ trades (hand-written for
//! speed: the firehose renders a million a second), AFR condition alerts and SC0–SC4
//! account events (through the wire types).
//!
//! Owns no state. Must never emit a value that is not a string inside a realtime body:
//! LS sends every realtime field as text, and clients parse it so.

use condor_actors::market::{DailyLimits, Price, TimeOfDay};

use super::exchange::{Event, Exchange, TradeEvent};

/// LS's `sign`: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down.
pub(crate) fn sign(price: Price, prev_close: Price, limits: &DailyLimits) -> &'static str {
    if price >= limits.upper {
        "1"
    } else if price <= limits.lower {
        "4"
    } else if price > prev_close {
        "2"
    } else if price < prev_close {
        "5"
    } else {
        "3"
    }
}

/// Change from the previous close in basis points, truncated toward zero.
pub(crate) fn change_bp(price: Price, prev_close: Price) -> i64 {
    if prev_close.0 <= 0 {
        return 0;
    }
    (price.0 - prev_close.0) * 10_000 / prev_close.0
}

fn push_int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// `value` in hundredths as LS's fixed two-decimal text: 193 → "1.93", -37 → "-0.37".
fn push_fixed2(out: &mut String, hundredths: i64) {
    if hundredths < 0 {
        out.push('-');
    }
    let a = hundredths.unsigned_abs();
    push_int(out, a / 100);
    out.push('.');
    let frac = a % 100;
    if frac < 10 {
        out.push('0');
    }
    push_int(out, frac);
}

fn push_hhmmss(out: &mut String, t: TimeOfDay) {
    let s = t.secs();
    for v in [s / 3600, s / 60 % 60, s % 60] {
        out.push((b'0' + (v / 10) as u8) as char);
        out.push((b'0' + (v % 10) as u8) as char);
    }
}

/// One S3_/K3_ frame: `{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{...}}` with
/// the full field set of LS's reference, every value a string.
pub(crate) fn trade_frame(t: &TradeEvent) -> String {
    let mut o = String::with_capacity(640);
    let tr = t.market.trade_tr();
    let code = t.ticker.as_str();
    let limits = DailyLimits::from_base(t.prev_close);
    o.push_str(r#"{"header":{"tr_cd":""#);
    o.push_str(tr);
    o.push_str(r#"","tr_key":""#);
    o.push_str(code);
    o.push_str(r#""},"body":{"chetime":""#);
    push_hhmmss(&mut o, t.time);
    o.push_str(r#"","sign":""#);
    o.push_str(sign(t.price, t.prev_close, &limits));
    o.push_str(r#"","change":""#);
    push_int(&mut o, (t.price.0 - t.prev_close.0).abs());
    o.push_str(r#"","drate":""#);
    push_fixed2(&mut o, change_bp(t.price, t.prev_close));
    o.push_str(r#"","price":""#);
    push_int(&mut o, t.price.0);
    o.push_str(r#"","opentime":""#);
    push_hhmmss(&mut o, t.open_time);
    o.push_str(r#"","open":""#);
    push_int(&mut o, t.open.0);
    o.push_str(r#"","hightime":""#);
    push_hhmmss(&mut o, t.high_time);
    o.push_str(r#"","high":""#);
    push_int(&mut o, t.high.0);
    o.push_str(r#"","lowtime":""#);
    push_hhmmss(&mut o, t.low_time);
    o.push_str(r#"","low":""#);
    push_int(&mut o, t.low.0);
    o.push_str(r#"","cgubun":""#);
    o.push_str(match t.aggressor {
        condor_actors::market::Side::Buy => "+",
        condor_actors::market::Side::Sell => "-",
    });
    o.push_str(r#"","cvolume":""#);
    push_int(&mut o, t.qty.0);
    o.push_str(r#"","volume":""#);
    push_int(&mut o, t.volume);
    // UNCONFIRMED unit: LS's samples look like millions of won.
    o.push_str(r#"","value":""#);
    push_int(&mut o, t.value / 1_000_000);
    o.push_str(r#"","mdvolume":""#);
    push_int(&mut o, t.sell_volume);
    o.push_str(r#"","mdchecnt":""#);
    push_int(&mut o, t.sell_count);
    o.push_str(r#"","msvolume":""#);
    push_int(&mut o, t.buy_volume);
    o.push_str(r#"","mschecnt":""#);
    push_int(&mut o, t.buy_count);
    // 체결강도: buy volume / sell volume × 100, two decimals.
    o.push_str(r#"","cpower":""#);
    let cpower = if t.sell_volume == 0 {
        0
    } else {
        (t.buy_volume as u128 * 10_000 / t.sell_volume as u128).min(i64::MAX as u128) as i64
    };
    push_fixed2(&mut o, cpower);
    o.push_str(r#"","w_avrg":""#);
    push_int(&mut o, t.vwap.0);
    o.push_str(r#"","offerho":""#);
    push_int(&mut o, t.best_ask.0);
    o.push_str(r#"","bidho":""#);
    push_int(&mut o, t.best_bid.0);
    o.push_str(r#"","status":"00","jnilvolume":""#);
    push_int(&mut o, t.prev_day_volume);
    o.push_str(r#"","shcode":""#);
    o.push_str(code);
    o.push_str(r#"","exchname":"KRX"}}"#);
    o
}

/// One AFR frame keyed by the alert's `sAlertNum`.
pub(crate) fn alert_frame(a: &super::exchange::AlertEvent) -> String {
    super::tr::alert_frame(a)
}

/// SC0–SC4 for an order event; `None` for events that are not account events.
pub(crate) fn account_frame(ev: &Event, exchange: &Exchange) -> Option<String> {
    super::tr::account_frame(ev, exchange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_two_decimals() {
        let f = |v| {
            let mut s = String::new();
            push_fixed2(&mut s, v);
            s
        };
        assert_eq!(f(193), "1.93");
        assert_eq!(f(-37), "-0.37");
        assert_eq!(f(0), "0.00");
        assert_eq!(f(5), "0.05");
        assert_eq!(f(-3000), "-30.00");
    }

    #[test]
    fn sign_codes() {
        let l = DailyLimits::from_base(Price(10_000));
        assert_eq!(sign(Price(13_000), Price(10_000), &l), "1");
        assert_eq!(sign(Price(10_010), Price(10_000), &l), "2");
        assert_eq!(sign(Price(10_000), Price(10_000), &l), "3");
        assert_eq!(sign(Price(7_000), Price(10_000), &l), "4");
        assert_eq!(sign(Price(9_990), Price(10_000), &l), "5");
        assert_eq!(change_bp(Price(10_193), Price(10_000)), 193);
        assert_eq!(change_bp(Price(9_963), Price(10_000)), -37);
    }
}
