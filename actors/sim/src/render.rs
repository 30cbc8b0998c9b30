//! Renders the exchange's events as LS realtime frames: S3_/K3_ trades (hand-written for
//! speed: the firehose renders a million a second), AFR condition alerts and SC0–SC4
//! account events (through the wire types).
//!
//! Owns no state. Must never emit a value that is not a string inside a realtime body:
//! LS sends every realtime field as text, and clients parse it so.

use condor_model::market::TimeOfDay;

use super::exchange::{Event, Exchange, TradeEvent};

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
#[cfg(test)]
pub(crate) fn trade_frame(t: &TradeEvent) -> String {
    let mut o = String::with_capacity(640);
    trade_frame_into(&mut o, t);
    o
}

/// Appends one S3_/K3_ frame to `o`.
pub(crate) fn trade_frame_into(o: &mut String, t: &TradeEvent) {
    let tr = t.market.trade_tr();
    let code = t.ticker.as_str();
    o.push_str(r#"{"header":{"tr_cd":""#);
    o.push_str(tr);
    o.push_str(r#"","tr_key":""#);
    o.push_str(code);
    o.push_str(r#""},"body":{"chetime":""#);
    push_hhmmss(o, t.time);
    o.push_str(r#"","sign":""#);
    o.push_str(t.sign());
    o.push_str(r#"","change":""#);
    push_int(o, (t.price.won() - t.prev_close.won()).abs());
    o.push_str(r#"","drate":""#);
    push_fixed2(o, t.chg_rate_bp());
    o.push_str(r#"","price":""#);
    push_int(o, t.price.won());
    o.push_str(r#"","opentime":""#);
    push_hhmmss(o, t.open_time);
    o.push_str(r#"","open":""#);
    push_int(o, t.open.won());
    o.push_str(r#"","hightime":""#);
    push_hhmmss(o, t.high_time);
    o.push_str(r#"","high":""#);
    push_int(o, t.high.won());
    o.push_str(r#"","lowtime":""#);
    push_hhmmss(o, t.low_time);
    o.push_str(r#"","low":""#);
    push_int(o, t.low.won());
    o.push_str(r#"","cgubun":""#);
    o.push_str(match t.aggressor {
        condor_model::market::Side::Buy => "+",
        condor_model::market::Side::Sell => "-",
    });
    o.push_str(r#"","cvolume":""#);
    push_int(o, t.qty.shares());
    o.push_str(r#"","volume":""#);
    push_int(o, t.volume);
    // UNCONFIRMED unit: LS's samples look like millions of won.
    o.push_str(r#"","value":""#);
    push_int(o, t.value / 1_000_000);
    o.push_str(r#"","mdvolume":""#);
    push_int(o, t.sell_volume);
    o.push_str(r#"","mdchecnt":""#);
    push_int(o, t.sell_count);
    o.push_str(r#"","msvolume":""#);
    push_int(o, t.buy_volume);
    o.push_str(r#"","mschecnt":""#);
    push_int(o, t.buy_count);
    // 체결강도: buy volume / sell volume × 100, two decimals.
    o.push_str(r#"","cpower":""#);
    push_fixed2(o, t.cpower_x100() as i64);
    o.push_str(r#"","w_avrg":""#);
    push_int(o, t.vwap.won());
    o.push_str(r#"","offerho":""#);
    push_int(o, t.best_ask.won());
    o.push_str(r#"","bidho":""#);
    push_int(o, t.best_bid.won());
    o.push_str(r#"","status":"00","jnilvolume":""#);
    push_int(o, t.prev_day_volume);
    o.push_str(r#"","shcode":""#);
    o.push_str(code);
    o.push_str(r#"","exchname":"KRX"}}"#);
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
    use condor_model::market::{Market, Price, Qty, Side, Ticker};
    use condor_model::wire::realtime::{decode_server_frame, ServerFrame};

    fn trade() -> TradeEvent {
        TradeEvent {
            seq: 7,
            ticker: Ticker::parse("005930").unwrap(),
            market: Market::Kospi,
            time: TimeOfDay::hms(9, 8, 51),
            ms: 5,
            price: Price::lit(55_500),
            qty: Qty::lit(12),
            aggressor: Side::Sell,
            prev_close: Price::lit(56_000),
            upper_limit: Price::lit(72_800),
            lower_limit: Price::lit(39_200),
            open: Price::lit(55_600),
            high: Price::lit(55_800),
            low: Price::lit(55_500),
            open_time: TimeOfDay::hms(9, 0, 30),
            high_time: TimeOfDay::hms(9, 5, 4),
            low_time: TimeOfDay::hms(9, 8, 51),
            volume: 10_887,
            value: 604_123_456,
            sell_volume: 946,
            sell_count: 23,
            buy_volume: 3_146,
            buy_count: 96,
            vwap: Price::lit(55_448),
            best_ask: Price::lit(55_600),
            best_bid: Price::lit(55_500),
            prev_day_volume: 2_508_350,
        }
    }

    #[test]
    fn a_rendered_trade_decodes_with_the_wire_types() {
        let text = trade_frame(&trade());
        let ServerFrame::Trade { market, body } = decode_server_frame(&text).unwrap() else {
            panic!("a trade frame: {text}")
        };
        assert_eq!(market, Market::Kospi);
        assert_eq!(body.ticker().unwrap().as_str(), "005930");
        assert_eq!(body.price().unwrap(), Price::lit(55_500));
        assert_eq!(body.cvolume().unwrap(), Qty::lit(12));
        assert_eq!(body.volume().unwrap(), 10_887);
        assert_eq!(body.time().unwrap(), TimeOfDay::hms(9, 8, 51));
        assert_eq!(body.aggressor().unwrap(), Side::Sell);
        assert_eq!(body.signed_change().unwrap(), -500);
        assert_eq!(body.drate_bp().unwrap(), -89);
        assert_eq!(body.drate, "-0.89");
        assert_eq!(body.sign, "5");
        assert_eq!(body.cpower, "332.55");
        assert_eq!(body.value, "604");
        assert_eq!(body.opentime, "090030");
        assert_eq!(body.exchname, "KRX");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            json["body"].as_object().unwrap().len(),
            27,
            "the full S3_ field set"
        );
        assert!(json["body"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.is_string()));
    }

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
}
