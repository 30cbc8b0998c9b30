//! Exchange-level tests: determinism, the tape's invariants, the session, matching and
//! the account to the won, every reject, scripted and continuous conditions.

use condor_model::market::{
    is_on_grid, DailyLimits as DailyLimitsOf, Price, Side, Ticker, TimeOfDay,
};

use super::*;

const SAMSUNG: &str = "005930"; // prev close 55,500; band 38,850 ..= 72,100
const HYNIX: &str = "000660";
const CASH: i64 = 100_000_000;

fn t(code: &str) -> Ticker {
    Ticker::parse(code).unwrap()
}

/// No generated trades: only `force_print` moves the market.
fn quiet() -> ExchangeConfig {
    ExchangeConfig {
        trades_per_sec: 0.0,
        ..ExchangeConfig::default()
    }
}

fn with_scenario(cfg: ExchangeConfig, text: &str) -> Exchange {
    Exchange::new(ExchangeConfig {
        scenario: Some(Scenario::parse(text).unwrap()),
        ..cfg
    })
}

fn order(code: &str, side: Side, qty: i64, price: i64, price_type: &str) -> NewOrder {
    NewOrder {
        isu_no: code.to_owned(),
        qty,
        price,
        side,
        price_type: price_type.to_owned(),
        condition: "0".to_owned(),
    }
}

fn buy(code: &str, qty: i64, price: i64) -> NewOrder {
    order(code, Side::Buy, qty, price, "00")
}

fn sell(code: &str, qty: i64, price: i64) -> NewOrder {
    order(code, Side::Sell, qty, price, "00")
}

fn market_buy(code: &str, qty: i64) -> NewOrder {
    order(code, Side::Buy, qty, 0, "03")
}

fn fills(events: &[Event]) -> Vec<(i64, i64, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::OrderFilled(f) => Some((f.ord_no, f.fill_price.won(), f.fill_qty, f.remaining)),
            _ => None,
        })
        .collect()
}

fn alerts(events: &[Event]) -> Vec<(String, &'static str, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ConditionAlert(a) => Some((a.alert_num.clone(), a.job.flag(), a.code.clone())),
            _ => None,
        })
        .collect()
}

fn trades(events: &[Event]) -> Vec<TradeEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some(*t),
            _ => None,
        })
        .collect()
}

/// A session of calls that touches every path; returns all events.
fn scripted_session(seed: u64) -> Vec<Event> {
    let mut ex = with_scenario(
        ExchangeConfig {
            seed,
            ..ExchangeConfig::default()
        },
        "holding 000660 20 170000\ncondition S1 x\nat 100ms S1 enter 005930\nat 2s S1 exit 005930\n",
    );
    let mut out = Vec::new();
    ex.register_alert("0000", 0).unwrap();
    ex.register_alert("S1", 500).unwrap();
    for step in 1..=600u64 {
        let now = step * 100;
        ex.advance(now, &mut out);
        if step == 50 {
            let _ = ex.submit(market_buy(SAMSUNG, 50), now, &mut out);
            let _ = ex.submit(sell(HYNIX, 20, 178_000), now, &mut out);
        }
        if step == 100 {
            ex.burst(5_000, now, &mut out);
        }
    }
    out
}

#[test]
fn same_seed_same_events_different_seed_different_tape() {
    let a = scripted_session(7);
    let b = scripted_session(7);
    assert!(a.len() > 10_000, "{} events", a.len());
    assert_eq!(a, b);
    let c = scripted_session(8);
    assert_ne!(trades(&a)[..100], trades(&c)[..100]);
}

#[test]
fn tape_stays_on_grid_inside_limits_over_100k_trades() {
    let mut ex = Exchange::new(ExchangeConfig::default());
    let mut out = Vec::new();
    for i in 0..10 {
        ex.burst(10_000, 1_000 * i, &mut out);
    }
    let tape = trades(&out);
    assert_eq!(tape.len(), 100_000);
    let mut last_volume = std::collections::HashMap::new();
    for tr in &tape {
        let l = ex.listing(tr.ticker).unwrap();
        assert!(is_on_grid(tr.price), "{tr:?}");
        assert!(l.limits.contains(tr.price), "{tr:?}");
        assert!(tr.low <= tr.price && tr.price <= tr.high && tr.qty.shares() >= 1);
        assert!(l.limits.contains(tr.low) && l.limits.contains(tr.high));
        assert!(tr.best_ask.won() == 0 || (is_on_grid(tr.best_ask) && tr.best_ask > tr.price));
        assert!(tr.best_bid.won() == 0 || (is_on_grid(tr.best_bid) && tr.best_bid < tr.price));
        assert_eq!(tr.buy_volume + tr.sell_volume, tr.volume);
        let prev = last_volume.insert(tr.ticker, tr.volume).unwrap_or(0);
        assert!(tr.volume > prev);
    }
    for (i, tr) in tape.iter().enumerate() {
        assert_eq!(tr.seq, i as u64 + 1);
    }
}

#[test]
fn several_tickers_move_two_percent_within_minutes_and_momentum_fires() {
    for seed in [1, 42, 2024] {
        let mut ex = Exchange::new(ExchangeConfig {
            seed,
            ..ExchangeConfig::default()
        });
        let alert = ex.register_alert("0000", 0).unwrap();
        let mut out = Vec::new();
        for step in 1..=3_000u64 {
            ex.advance(step * 100, &mut out); // 5 simulated minutes
        }
        let mut moved = std::collections::HashSet::new();
        for tr in trades(&out) {
            if tr.chg_rate_bp().abs() >= 200 {
                moved.insert(tr.ticker);
            }
        }
        assert!(
            moved.len() >= 3,
            "seed {seed}: only {} tickers moved 2%",
            moved.len()
        );
        let enters = alerts(&out)
            .iter()
            .filter(|(n, j, _)| n == &alert && *j == "N")
            .count();
        assert!(enters >= 1, "seed {seed}: momentum found nothing");
        // ~2 trades/s per ticker for 300 s over 50 tickers.
        let n = trades(&out).len();
        assert!((25_000..35_000).contains(&n), "seed {seed}: {n} trades");
    }
}

/// Five simulated seconds of a default market with `gap_ups` gaps, an alert registered
/// on the momentum condition at the start.
fn first_seconds(seed: u64, gap_ups: usize, secs: u64) -> (Exchange, String, Vec<Event>) {
    let mut ex = Exchange::new(ExchangeConfig {
        seed,
        gap_ups,
        ..ExchangeConfig::default()
    });
    let alert = ex.register_alert("0000", 0).unwrap();
    let mut out = Vec::new();
    for step in 1..=secs * 10 {
        ex.advance(step * 100, &mut out);
    }
    (ex, alert, out)
}

const MORNING_SEEDS: [u64; 6] = [1, 2, 3, 7, 42, 2024];

#[test]
fn the_morning_gaps_a_few_tickers_up_and_momentum_lists_them_within_seconds() {
    let enter_bp = MomentumParams::default().enter_bp;
    let mut picks = std::collections::HashSet::new();
    for seed in MORNING_SEEDS {
        let (ex, alert, out) = first_seconds(seed, DEFAULT_GAP_UPS, 5);
        let gaps = ex.gap_ups().to_vec();
        assert_eq!(gaps.len(), DEFAULT_GAP_UPS, "seed {seed}");
        let tape = trades(&out);
        let mut first = std::collections::HashMap::new();
        for tr in &tape {
            first.entry(tr.ticker).or_insert(*tr);
        }
        for &(tk, open) in &gaps {
            let l = ex.listing(tk).unwrap();
            let bp = chg_rate_bp(open, l.prev_close);
            assert!(
                is_on_grid(open) && (enter_bp..=900).contains(&bp),
                "seed {seed}: {tk} opens at {open}, {bp} bp"
            );
            // The opening auction: one large buy at the gap price.
            let f = first[&tk];
            assert_eq!((f.price, f.aggressor, f.open), (open, Side::Buy, open));
            assert!(
                f.qty.shares() >= 500,
                "seed {seed}: {tk} opened on {}",
                f.qty.shares()
            );
        }
        // Everyone else opens where it closed, give or take two ticks.
        for (tk, f) in &first {
            if gaps.iter().all(|g| g.0 != *tk) {
                let close = ex.listing(*tk).unwrap().prev_close;
                let ticks =
                    (f.price.won() - close.won()).abs() / condor_model::market::tick_size(close);
                assert!(ticks <= 2, "seed {seed}: {tk} opened {ticks} ticks away");
            }
        }
        // Within five seconds the condition lists exactly the gapped tickers, each with
        // an N alert.
        let gapped: Vec<Ticker> = gaps.iter().map(|g| g.0).collect();
        assert_eq!(
            ex.condition_members("0000"),
            Some(gapped.clone()),
            "seed {seed}"
        );
        let mut entered: Vec<String> = alerts(&out)
            .into_iter()
            .filter(|(n, j, _)| *n == alert && *j == "N")
            .map(|(_, _, c)| c)
            .collect();
        entered.sort();
        let mut want: Vec<String> = gapped.iter().map(|t| t.as_str().to_owned()).collect();
        want.sort();
        assert_eq!(entered, want, "seed {seed}");
        picks.insert(gapped);
    }
    assert!(picks.len() >= 5, "the seed picks the gaps: {picks:?}");
}

#[test]
fn without_gap_ups_the_open_is_flat_and_the_rest_of_the_market_is_unchanged_by_them() {
    for seed in MORNING_SEEDS {
        // Today's open without gaps: nothing has moved 2% five seconds in.
        let (flat, _, _) = first_seconds(seed, 0, 5);
        assert!(flat.gap_ups().is_empty());
        assert_eq!(flat.condition_members("0000"), Some(vec![]), "seed {seed}");
        let (_, _, flat_out) = first_seconds(seed, 0, 60);
        let (gapped, _, gap_out) = first_seconds(seed, DEFAULT_GAP_UPS, 60);
        let is_gap = |t: Ticker| gapped.gap_ups().iter().any(|g| g.0 == t);
        // Same arrivals (times, tickers), and every trade of a non-gapped ticker identical:
        // the gaps draw from their own stream (for the first minutes; see `walk`).
        let (a, b) = (trades(&flat_out), trades(&gap_out));
        assert_eq!(a.len(), b.len(), "seed {seed}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (x.seq, x.ticker, x.time, x.ms),
                (y.seq, y.ticker, y.time, y.ms)
            );
            if !is_gap(x.ticker) {
                assert_eq!(x, y, "seed {seed}");
            }
        }
    }
}

#[test]
fn the_momentum_strategy_with_its_defaults_buys_a_gap_up_within_fifteen_seconds() {
    use condor_core::strategy::{
        MomentumParams as StrategyParams, MomentumStrategy, Signal, Strategy,
    };
    use condor_model::domain::Tick;
    for seed in MORNING_SEEDS {
        let (ex, _, out) = first_seconds(seed, DEFAULT_GAP_UPS, 15);
        // As condor sees it: a ticker's feed starts on its entry alert, so its strategy
        // hears of the condition then and gets the trades after it.
        let mut strategies: std::collections::HashMap<Ticker, MomentumStrategy> =
            std::collections::HashMap::new();
        let mut first_buy = None;
        for (i, ev) in out.iter().enumerate() {
            match ev {
                Event::ConditionAlert(a) if a.job == AlertJob::Enter => {
                    let tk = t(&a.code);
                    let mut s = MomentumStrategy::new(tk, StrategyParams::default());
                    s.on_condition_enter(a.time);
                    strategies.insert(tk, s);
                }
                Event::Trade(tr) => {
                    let Some(s) = strategies.get_mut(&tr.ticker) else {
                        continue;
                    };
                    let tick = Tick {
                        ticker: tr.ticker,
                        price: tr.price,
                        qty: tr.qty,
                        cum_volume: tr.volume,
                        prev_close: tr.prev_close,
                        aggressor: tr.aggressor,
                        exchange_time: tr.time,
                        received_at: std::time::Instant::now(),
                        seq: i as u64 + 1,
                    };
                    let mut signals = Vec::new();
                    s.on_tick(&tick, &mut signals);
                    if signals.iter().any(|s| matches!(s, Signal::Buy { .. })) {
                        first_buy = Some((tr.ticker, tr.time));
                        break;
                    }
                }
                _ => {}
            }
        }
        let (tk, at) = first_buy.unwrap_or_else(|| panic!("seed {seed}: no entry in 15 s"));
        assert!(
            ex.gap_ups().iter().any(|g| g.0 == tk),
            "seed {seed}: first entry {tk} at {at} is not a gap up"
        );
        assert!(at < TimeOfDay::hms(9, 0, 15), "seed {seed}: {at}");
    }
}

#[test]
fn no_trades_outside_the_regular_session() {
    // Opens at 09:00:00, one minute in.
    let mut ex = Exchange::new(ExchangeConfig {
        start_time: TimeOfDay::hms(8, 59, 0),
        ..ExchangeConfig::default()
    });
    let mut out = Vec::new();
    ex.advance(59_999, &mut out);
    ex.burst(100, 59_999, &mut out);
    assert!(out.is_empty());
    ex.advance(62_000, &mut out);
    let tape = trades(&out);
    assert!(!tape.is_empty());
    assert!(tape.iter().all(|t| t.time >= TimeOfDay::hms(9, 0, 0)));

    // Closes at 15:30:00, one minute in.
    let mut ex = Exchange::new(ExchangeConfig {
        start_time: TimeOfDay::hms(15, 29, 0),
        ..ExchangeConfig::default()
    });
    let mut out = Vec::new();
    ex.advance(600_000, &mut out);
    let tape = trades(&out);
    assert!(tape.len() > 1_000);
    assert!(tape.iter().all(|t| t.time < TimeOfDay::hms(15, 30, 0)));
    let n = ex.trade_count();
    ex.burst(100, 60_000, &mut out);
    ex.advance(3_600_000, &mut out);
    assert_eq!(ex.trade_count(), n);

    // Starts after the close: nothing all day, and the clock stops at 23:59:59.
    let mut ex = Exchange::new(ExchangeConfig {
        start_time: TimeOfDay::hms(16, 0, 0),
        ..ExchangeConfig::default()
    });
    let mut out = Vec::new();
    ex.advance(u64::MAX, &mut out);
    ex.burst(1_000, 0, &mut out);
    assert!(out.is_empty());
    assert_eq!(ex.clock(u64::MAX), TimeOfDay::hms(23, 59, 59));
    assert_eq!(ex.clock(1_500), TimeOfDay::hms(16, 0, 1));
}

#[test]
fn market_buy_fills_across_prints_and_books_cash_holding_average_exactly() {
    let mut ex = Exchange::new(quiet());
    let mut out = Vec::new();
    let ack = ex
        .submit(market_buy("A005930", 10), 1_000, &mut out)
        .unwrap();
    assert_eq!((ack.ord_no, ack.org_ord_no, ack.qty), (FIRST_ORD_NO, 0, 10));
    assert!(matches!(&out[..], [Event::OrderAccepted(s)] if s.kind == OrderKind::New));
    // A market buy reserves qty × upper limit.
    assert_eq!(ex.account().reserved, 10 * 72_100);
    assert_eq!(ex.account().orderable, CASH - 721_000);
    out.clear();
    ex.force_print(t(SAMSUNG), 56_000, 3, 2_000, &mut out);
    ex.force_print(t(SAMSUNG), 56_100, 100, 3_000, &mut out);
    assert_eq!(
        fills(&out),
        vec![(FIRST_ORD_NO, 56_000, 3, 7), (FIRST_ORD_NO, 56_100, 7, 0)]
    );
    // Causal order: each fill right after its print.
    assert!(matches!(
        &out[..],
        [
            Event::Trade(_),
            Event::OrderFilled(_),
            Event::Trade(_),
            Event::OrderFilled(_)
        ]
    ));
    let a = ex.account();
    assert_eq!(a.cash, CASH - 3 * 56_000 - 7 * 56_100);
    assert_eq!((a.reserved, a.orderable), (0, a.cash));
    let h = a.holding(t(SAMSUNG)).unwrap();
    assert_eq!(
        (h.qty, h.sellable, h.cost, h.avg_price),
        (10, 10, 560_700, Price::lit(56_070))
    );
    assert_eq!(
        (h.last_price, h.eval, h.unrealized_pnl),
        (Price::lit(56_100), 561_000, 300)
    );
    let o = &ex.orders()[0];
    assert_eq!(
        (o.filled_qty, o.avg_fill_price, o.remaining),
        (10, Price::lit(56_070), 0)
    );
    assert_eq!(o.status.label(), "완료");
    assert_eq!(o.ordtime(), "09000100");
    let Event::OrderFilled(f) = &out[3] else {
        unreachable!()
    };
    assert_eq!(
        (f.exec_no, f.filled_qty, f.avg_fill_price),
        (2, 10, Price::lit(56_070))
    );
    assert_eq!(
        (f.cash_after, f.holding_qty_after, f.holding_avg_price_after),
        (a.cash, 10, Price::lit(56_070))
    );
}

#[test]
fn fees_and_tax_are_integer_rounded_down_and_pnl_is_exact() {
    let mut ex = Exchange::new(ExchangeConfig {
        commission_ppm: 150,
        sell_tax_ppm: 1_800,
        ..quiet()
    });
    let mut out = Vec::new();
    ex.submit(buy(SAMSUNG, 7, 55_700), 0, &mut out).unwrap();
    // Reserve includes the commission: 389,900 + 58.
    assert_eq!(ex.account().reserved, 389_958);
    ex.force_print(t(SAMSUNG), 55_700, 7, 1_000, &mut out);
    let a = ex.account();
    assert_eq!((a.cash, a.reserved, a.commission), (CASH - 389_958, 0, 58));
    assert_eq!(a.holding(t(SAMSUNG)).unwrap().cost, 389_900);
    ex.submit(sell(SAMSUNG, 7, 56_000), 2_000, &mut out)
        .unwrap();
    assert_eq!(ex.account().holding(t(SAMSUNG)).unwrap().sellable, 0);
    ex.force_print(t(SAMSUNG), 56_500, 10, 3_000, &mut out);
    let a = ex.account();
    // 395,500 − 59 commission − 711 tax.
    assert_eq!(a.cash, CASH - 389_958 + 395_500 - 59 - 711);
    assert_eq!((a.commission, a.tax, a.realized_pnl), (117, 711, 5_600));
    assert_eq!(a.realized_pnl_net(), 5_600 - 117 - 711);
    assert!(a.holdings.is_empty());
    let Some(Event::OrderFilled(f)) = out.last() else {
        panic!()
    };
    assert_eq!((f.commission, f.tax), (59, 711));
}

#[test]
fn limit_buy_rests_until_a_print_at_or_below_then_fills_at_the_print() {
    let mut ex = Exchange::new(quiet());
    let mut out = Vec::new();
    ex.submit(buy(SAMSUNG, 5, 55_000), 0, &mut out).unwrap();
    assert_eq!(ex.account().reserved, 275_000);
    out.clear();
    ex.force_print(t(SAMSUNG), 55_100, 50, 1_000, &mut out);
    ex.force_print(t(SAMSUNG), 55_500, 50, 2_000, &mut out);
    assert!(fills(&out).is_empty());
    assert_eq!(ex.orders()[0].status.label(), "접수");
    ex.force_print(t(SAMSUNG), 54_900, 50, 3_000, &mut out);
    assert_eq!(fills(&out), vec![(FIRST_ORD_NO, 54_900, 5, 0)]);
    let a = ex.account();
    assert_eq!((a.cash, a.reserved), (CASH - 274_500, 0));
}

#[test]
fn limit_orders_on_the_generated_tape_fill_only_at_eligible_prints() {
    let mut ex = Exchange::new(ExchangeConfig::default());
    let mut out = Vec::new();
    ex.advance(1_000, &mut out);
    let px = ex.quote(t(SAMSUNG)).unwrap().price;
    let below = condor_model::market::tick_down(condor_model::market::tick_down(px));
    let ack = ex
        .submit(buy(SAMSUNG, 300, below.won()), 1_000, &mut out)
        .unwrap();
    out.clear();
    let mut filled = 0;
    for step in 2..=600u64 {
        ex.advance(step * 1_000, &mut out);
    }
    let mut last_print = None;
    for e in &out {
        match e {
            Event::Trade(tr) if tr.ticker == t(SAMSUNG) => last_print = Some(*tr),
            Event::OrderFilled(f) => {
                let tr = last_print.expect("a fill follows its print");
                assert_eq!((f.ord_no, f.fill_price), (ack.ord_no, tr.price));
                assert!(tr.price <= below && f.fill_qty <= tr.qty.shares());
                filled += f.fill_qty;
            }
            _ => {}
        }
    }
    assert_eq!(filled, ex.orders()[0].filled_qty);
    assert!(filled > 0, "ten minutes should reach two ticks below");
}

#[test]
fn large_orders_fill_partially_in_time_priority_and_never_beyond_the_print() {
    let mut ex = Exchange::new(quiet());
    let mut out = Vec::new();
    let a = ex
        .submit(buy(SAMSUNG, 1_000, 56_000), 0, &mut out)
        .unwrap()
        .ord_no;
    let b = ex
        .submit(buy(SAMSUNG, 200, 56_000), 0, &mut out)
        .unwrap()
        .ord_no;
    out.clear();
    ex.force_print(t(SAMSUNG), 56_100, 500, 1_000, &mut out); // above both
    ex.force_print(t(SAMSUNG), 55_900, 300, 2_000, &mut out);
    ex.force_print(t(SAMSUNG), 56_000, 300, 3_000, &mut out);
    ex.force_print(t(SAMSUNG), 55_800, 500, 4_000, &mut out);
    assert_eq!(
        fills(&out),
        vec![
            (a, 55_900, 300, 700),
            (a, 56_000, 300, 400),
            (a, 55_800, 400, 0),
            (b, 55_800, 100, 100),
        ]
    );
    let acct = ex.account();
    assert_eq!(acct.reserved, 100 * 56_000);
    assert_eq!(acct.holding(t(SAMSUNG)).unwrap().qty, 1_100);
    assert_eq!(acct.cash, CASH - 300 * 55_900 - 300 * 56_000 - 500 * 55_800);
}

#[test]
fn sell_limit_from_a_scenario_holding() {
    let mut ex = with_scenario(quiet(), "holding 005930 10 55000\n");
    let mut out = Vec::new();
    let h = ex.account();
    assert_eq!(h.cash, CASH);
    let h = h.holding(t(SAMSUNG)).unwrap().clone();
    assert_eq!(
        (h.qty, h.cost, h.avg_price),
        (10, 550_000, Price::lit(55_000))
    );
    let o = ex
        .submit(sell(SAMSUNG, 4, 56_000), 0, &mut out)
        .unwrap()
        .ord_no;
    assert_eq!(ex.account().holding(t(SAMSUNG)).unwrap().sellable, 6);
    out.clear();
    ex.force_print(t(SAMSUNG), 55_900, 10, 1_000, &mut out);
    ex.force_print(t(SAMSUNG), 56_000, 2, 2_000, &mut out);
    ex.force_print(t(SAMSUNG), 56_200, 10, 3_000, &mut out);
    assert_eq!(fills(&out), vec![(o, 56_000, 2, 2), (o, 56_200, 2, 0)]);
    let a = ex.account();
    assert_eq!(a.cash, CASH + 112_000 + 112_400);
    assert_eq!(a.realized_pnl, 4_400);
    let h = a.holding(t(SAMSUNG)).unwrap();
    assert_eq!(
        (h.qty, h.sellable, h.cost, h.avg_price),
        (6, 6, 330_000, Price::lit(55_000))
    );
}

#[test]
fn modify_moves_the_remainder_to_a_new_order_number() {
    let mut ex = Exchange::new(quiet());
    let mut out = Vec::new();
    let o1 = ex
        .submit(buy(SAMSUNG, 100, 50_000), 0, &mut out)
        .unwrap()
        .ord_no;
    out.clear();
    let m = ModifyOrder {
        org_ord_no: o1,
        isu_no: "A005930".into(),
        qty: 0,
        price_type: "00".into(),
        price: 51_000,
    };
    let ack = ex.modify(m, 1_000, &mut out).unwrap();
    assert_eq!(
        (ack.ord_no, ack.org_ord_no, ack.kind),
        (o1 + 1, o1, OrderKind::Modify)
    );
    assert_eq!((ack.qty, ack.price), (100, Price::lit(51_000)));
    match &out[..] {
        [Event::OrderAccepted(a), Event::OrderModified(m)] => {
            assert_eq!(a.kind, OrderKind::Modify);
            assert_eq!(
                (m.ord_no, m.org_ord_no, m.qty, m.price),
                (o1 + 1, o1, 100, Price::lit(51_000))
            );
            assert_eq!((m.org_remaining_before, m.org_remaining_after), (100, 0));
        }
        other => panic!("{other:?}"),
    }
    let (orig, new) = (&ex.orders()[0], &ex.orders()[1]);
    assert_eq!((orig.remaining, orig.status.label()), (0, "완료"));
    assert_eq!(
        (new.remaining, new.confirmed_qty, new.status.label()),
        (100, 100, "정정확인")
    );
    assert_eq!(ex.account().reserved, 5_100_000);

    // Partial modify: 40 of a fresh 100 move; 60 keep working at the old price.
    let o3 = ex
        .submit(buy(SAMSUNG, 100, 50_000), 2_000, &mut out)
        .unwrap()
        .ord_no;
    let m = ModifyOrder {
        org_ord_no: o3,
        isu_no: SAMSUNG.into(),
        qty: 40,
        price_type: "00".into(),
        price: 49_000,
    };
    let o4 = ex.modify(m, 3_000, &mut out).unwrap().ord_no;
    assert_eq!(ex.order(o3).unwrap().remaining, 60);
    assert_eq!(ex.order(o3).unwrap().status.label(), "접수");
    assert_eq!(ex.account().reserved, 5_100_000 + 3_000_000 + 1_960_000);
    // Priority: the modified o2 was queued before o3; o4 (49,000) is not eligible.
    out.clear();
    ex.force_print(t(SAMSUNG), 50_000, 1_000, 4_000, &mut out);
    assert_eq!(
        fills(&out),
        vec![(o1 + 1, 50_000, 100, 0), (o3, 50_000, 60, 0)]
    );
    assert_eq!(ex.account().reserved, 1_960_000);
    // Modify to market: reserve at the upper limit.
    let m = ModifyOrder {
        org_ord_no: o4,
        isu_no: SAMSUNG.into(),
        qty: 0,
        price_type: "03".into(),
        price: 0,
    };
    let o5 = ex.modify(m, 5_000, &mut out).unwrap().ord_no;
    assert_eq!(ex.order(o5).unwrap().price_type, PriceType::Market);
    assert_eq!(ex.account().reserved, 40 * 72_100);
}

#[test]
fn cancel_takes_part_or_all_of_the_remainder_and_releases_the_reserve() {
    let mut ex = with_scenario(quiet(), "holding 000660 10 170000\n");
    let mut out = Vec::new();
    let o1 = ex
        .submit(buy(SAMSUNG, 100, 50_000), 0, &mut out)
        .unwrap()
        .ord_no;
    out.clear();
    let c = |qty| CancelOrder {
        org_ord_no: o1,
        isu_no: SAMSUNG.into(),
        qty,
    };
    let ack = ex.cancel(c(30), 1_000, &mut out).unwrap();
    assert_eq!(
        (ack.ord_no, ack.org_ord_no, ack.qty, ack.kind),
        (o1 + 1, o1, 30, OrderKind::Cancel)
    );
    match &out[..] {
        [Event::OrderAccepted(a), Event::OrderCancelled(s)] => {
            assert_eq!(a.kind, OrderKind::Cancel);
            assert_eq!(
                (s.qty, s.org_remaining_before, s.org_remaining_after),
                (30, 100, 70)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ex.account().reserved, 3_500_000);
    let ack = ex.cancel(c(0), 2_000, &mut out).unwrap();
    assert_eq!(ack.qty, 70);
    let a = ex.account();
    assert_eq!((a.reserved, a.orderable, a.cash), (0, CASH, CASH));
    assert_eq!(ex.order(o1).unwrap().status.label(), "완료");
    let row = ex.order(o1 + 1).unwrap();
    assert_eq!(
        (row.kind, row.confirmed_qty, row.status.label()),
        (OrderKind::Cancel, 30, "취소확인")
    );
    // Nothing left: a print does not fill it, a second cancel is refused.
    out.clear();
    ex.force_print(t(SAMSUNG), 49_000, 500, 3_000, &mut out);
    assert!(fills(&out).is_empty());
    let e = ex.cancel(c(0), 4_000, &mut out).unwrap_err();
    assert_eq!(e.reason, RejectReason::OrderNotWorking);
    // Cancelling a sell gives the shares back to `sellable`.
    let s = ex
        .submit(sell(HYNIX, 8, 180_000), 5_000, &mut out)
        .unwrap()
        .ord_no;
    assert_eq!(ex.account().holding(t(HYNIX)).unwrap().sellable, 2);
    let cs = CancelOrder {
        org_ord_no: s,
        isu_no: HYNIX.into(),
        qty: 99,
    };
    assert_eq!(ex.cancel(cs, 6_000, &mut out).unwrap().qty, 8);
    assert_eq!(ex.account().holding(t(HYNIX)).unwrap().sellable, 10);
}

#[test]
fn every_reject_has_its_code_an_event_and_changes_nothing() {
    let mut ex = with_scenario(quiet(), "holding 005930 10 55000\n");
    let mut out = Vec::new();
    let working_sell = ex
        .submit(sell(SAMSUNG, 6, 60_000), 0, &mut out)
        .unwrap()
        .ord_no;
    let filled = ex
        .submit(market_buy(SAMSUNG, 1), 0, &mut out)
        .unwrap()
        .ord_no;
    ex.force_print(t(SAMSUNG), 55_500, 1, 100, &mut out);
    let cancelled = ex
        .submit(buy(SAMSUNG, 1, 50_000), 200, &mut out)
        .unwrap()
        .ord_no;
    let cancel_row = ex
        .cancel(
            CancelOrder {
                org_ord_no: cancelled,
                isu_no: SAMSUNG.into(),
                qty: 0,
            },
            300,
            &mut out,
        )
        .unwrap()
        .ord_no;
    assert_eq!(ex.order(filled).unwrap().status, OrderStatus::Filled);

    let closed_ms = 7 * 3_600 * 1_000; // 16:00
    let with_cond = |c: &str| NewOrder {
        condition: c.into(),
        ..buy(SAMSUNG, 1, 55_500)
    };
    let new_cases: Vec<(NewOrder, u64, RejectReason, &str)> = vec![
        (
            buy("5930", 1, 55_500),
            1_000,
            RejectReason::BadTickerFormat,
            "90001",
        ),
        (
            buy("A00593X", 1, 55_500),
            1_000,
            RejectReason::BadTickerFormat,
            "90001",
        ),
        (
            buy("", 1, 55_500),
            1_000,
            RejectReason::BadTickerFormat,
            "90001",
        ),
        (
            buy("999999", 1, 55_500),
            1_000,
            RejectReason::UnknownTicker,
            "90002",
        ),
        (
            buy(SAMSUNG, 0, 55_500),
            1_000,
            RejectReason::BadQty,
            "90003",
        ),
        (
            buy(SAMSUNG, -1, 55_500),
            1_000,
            RejectReason::BadQty,
            "90003",
        ),
        (
            buy(SAMSUNG, i64::MAX, 55_500),
            1_000,
            RejectReason::BadQty,
            "90003",
        ),
        (buy(SAMSUNG, 1, 0), 1_000, RejectReason::BadPrice, "90004"),
        (
            buy(SAMSUNG, 1, i64::MIN),
            1_000,
            RejectReason::BadPrice,
            "90004",
        ),
        (
            buy(SAMSUNG, 1, 55_550),
            1_000,
            RejectReason::OffGrid,
            "90005",
        ),
        (
            buy(SAMSUNG, 1, 72_200),
            1_000,
            RejectReason::AboveUpperLimit,
            "03180",
        ),
        (
            buy(SAMSUNG, 1, 38_800),
            1_000,
            RejectReason::BelowLowerLimit,
            "03181",
        ),
        (
            order(SAMSUNG, Side::Buy, 1, 55_500, "05"),
            1_000,
            RejectReason::UnsupportedPriceType,
            "90006",
        ),
        (
            order(SAMSUNG, Side::Buy, 1, 55_500, ""),
            1_000,
            RejectReason::UnsupportedPriceType,
            "90006",
        ),
        (
            with_cond("1"),
            1_000,
            RejectReason::UnsupportedCondition,
            "90007",
        ),
        (
            with_cond("2"),
            1_000,
            RejectReason::UnsupportedCondition,
            "90007",
        ),
        (
            buy(SAMSUNG, 1, 55_500),
            closed_ms,
            RejectReason::MarketClosed,
            "90008",
        ),
        (
            buy(SAMSUNG, 10_000, 55_500),
            1_000,
            RejectReason::InsufficientCash,
            "90009",
        ),
        // 1,387 × 72,100 (the upper limit a market buy reserves at) > 100,000,000.
        (
            market_buy(SAMSUNG, 1_387),
            1_000,
            RejectReason::InsufficientCash,
            "90009",
        ),
        (
            sell(HYNIX, 1, 178_000),
            1_000,
            RejectReason::InsufficientSellable,
            "01478",
        ),
        // Held 11, 6 working: 5 sellable.
        (
            sell(SAMSUNG, 6, 55_500),
            1_000,
            RejectReason::InsufficientSellable,
            "01478",
        ),
    ];
    let modify = |org: i64, isu: &str, qty: i64, price: i64| ModifyOrder {
        org_ord_no: org,
        isu_no: isu.into(),
        qty,
        price_type: "00".into(),
        price,
    };
    let modify_cases: Vec<(ModifyOrder, u64, RejectReason)> = vec![
        (
            modify(99_999, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::UnknownOrder,
        ),
        (
            modify(0, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::UnknownOrder,
        ),
        (
            modify(-5, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::UnknownOrder,
        ),
        (
            modify(filled, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::OrderNotWorking,
        ),
        (
            modify(cancelled, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::OrderNotWorking,
        ),
        (
            modify(cancel_row, SAMSUNG, 0, 55_000),
            1_000,
            RejectReason::OrderNotWorking,
        ),
        (
            modify(working_sell, HYNIX, 0, 55_000),
            1_000,
            RejectReason::TickerMismatch,
        ),
        (
            modify(working_sell, "59", 0, 55_000),
            1_000,
            RejectReason::BadTickerFormat,
        ),
        (
            modify(working_sell, SAMSUNG, -1, 55_000),
            1_000,
            RejectReason::BadQty,
        ),
        (
            modify(working_sell, SAMSUNG, 0, 55_010),
            1_000,
            RejectReason::OffGrid,
        ),
        (
            modify(working_sell, SAMSUNG, 0, 80_000),
            1_000,
            RejectReason::AboveUpperLimit,
        ),
        (
            modify(working_sell, SAMSUNG, 0, 55_000),
            closed_ms,
            RejectReason::MarketClosed,
        ),
    ];
    let cancel = |org: i64| CancelOrder {
        org_ord_no: org,
        isu_no: SAMSUNG.into(),
        qty: 0,
    };
    let cancel_cases: Vec<(CancelOrder, u64, RejectReason)> = vec![
        (cancel(99_999), 1_000, RejectReason::UnknownOrder),
        (cancel(filled), 1_000, RejectReason::OrderNotWorking),
        (cancel(cancelled), 1_000, RejectReason::OrderNotWorking),
        (cancel(cancel_row), 1_000, RejectReason::OrderNotWorking),
        (cancel(working_sell), closed_ms, RejectReason::MarketClosed),
        (
            CancelOrder {
                qty: -3,
                ..cancel(working_sell)
            },
            1_000,
            RejectReason::BadQty,
        ),
    ];

    let before_orders = ex.orders().to_vec();
    let before_account = ex.account();
    let check = |r: Result<OrderAck, Reject>, out: &[Event], want: RejectReason, what: &str| {
        let e = r.expect_err(what);
        assert_eq!(e.reason, want, "{what}: {e}");
        assert_eq!(e.code, want.code());
        assert_eq!(e.message, want.message());
        match out {
            [Event::OrderRejected(ev)] => assert_eq!(ev.reject, e, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    };
    for (req, now, want, code) in new_cases {
        let mut out = Vec::new();
        let what = format!("{req:?}");
        let r = ex.submit(req, now, &mut out);
        assert_eq!(r.as_ref().err().map(|e| e.code), Some(code), "{what}");
        check(r, &out, want, &what);
    }
    for (req, now, want) in modify_cases {
        let mut out = Vec::new();
        let what = format!("{req:?}");
        let r = ex.modify(req, now, &mut out);
        check(r, &out, want, &what);
    }
    for (req, now, want) in cancel_cases {
        let mut out = Vec::new();
        let what = format!("{req:?}");
        let r = ex.cancel(req, now, &mut out);
        check(r, &out, want, &what);
    }
    assert_eq!(ex.orders(), &before_orders[..]);
    assert_eq!(ex.account(), before_account);

    // The boundary of the cash check: 1,386 × 72,100 fits.
    assert!(ex
        .submit(market_buy(SAMSUNG, 1_386), 1_000, &mut out)
        .is_ok());
    assert_eq!(ex.account().orderable, CASH - 55_500 - 1_386 * 72_100);
}

#[test]
fn modify_that_needs_more_cash_than_is_orderable_is_refused() {
    let mut ex = Exchange::new(ExchangeConfig {
        cash: 1_000_000,
        ..quiet()
    });
    let mut out = Vec::new();
    let o = ex
        .submit(buy(SAMSUNG, 18, 55_000), 0, &mut out)
        .unwrap()
        .ord_no;
    let m = |price| ModifyOrder {
        org_ord_no: o,
        isu_no: SAMSUNG.into(),
        qty: 0,
        price_type: "00".into(),
        price,
    };
    // 18 × 55,600 = 1,000,800 > 1,000,000 once the old 990,000 is released.
    let e = ex.modify(m(55_600), 1_000, &mut out).unwrap_err();
    assert_eq!(e.reason, RejectReason::InsufficientCash);
    assert_eq!(ex.account().reserved, 990_000);
    assert!(ex.modify(m(55_500), 1_000, &mut out).is_ok());
    assert_eq!(ex.account().reserved, 999_000);
}

const SCRIPT: &str = "\
condition S001 스크립트 테스트
at 0ms S001 enter 005930
at 250ms S001 enter 000660
at 1s S001 exit 005930
at 1500ms S001 enter 12345X
at 2s S001 enter 005930
";

#[test]
fn scripted_alerts_fire_in_order_with_n_then_o_then_r() {
    let mut ex = with_scenario(quiet(), SCRIPT);
    let conds = ex.conditions();
    assert_eq!(conds.len(), 2);
    assert_eq!(
        (conds[0].query_index.as_str(), conds[0].query_name.as_str()),
        ("0000", "급등 모멘텀")
    );
    assert_eq!(
        (conds[1].query_index.as_str(), conds[1].query_name.as_str()),
        ("S001", "스크립트 테스트")
    );
    let mut out = Vec::new();
    let a1 = ex.register_alert("S001", 10_000).unwrap();
    assert_eq!(a1, "0000000001A");
    assert_eq!(a1.len(), 11);
    assert!(ex.is_alert(&a1));
    ex.advance(9_999, &mut out);
    assert!(out.is_empty(), "nothing before registration + 0ms");
    ex.advance(10_000, &mut out);
    ex.advance(11_499, &mut out);
    assert_eq!(ex.condition_members("S001"), Some(vec![t(HYNIX)]));
    ex.advance(20_000, &mut out);
    let s = |x: &str| x.to_owned();
    assert_eq!(
        alerts(&out),
        vec![
            (a1.clone(), "N", s(SAMSUNG)),
            (a1.clone(), "N", s(HYNIX)),
            (a1.clone(), "O", s(SAMSUNG)),
            (a1.clone(), "N", s("12345X")),
            (a1.clone(), "R", s(SAMSUNG)),
        ]
    );
    let Event::ConditionAlert(first) = &out[0] else {
        panic!()
    };
    assert_eq!(
        (
            first.name,
            first.price,
            first.sign,
            first.query_index.as_str()
        ),
        ("삼성전자", Price::lit(55_500), "3", "S001")
    );
    assert_eq!(first.time, TimeOfDay::hms(9, 0, 10));
    let Event::ConditionAlert(bad) = &out[3] else {
        panic!()
    };
    assert_eq!(
        (bad.name, bad.price, bad.time, bad.ms),
        ("", Price::lit(0), TimeOfDay::hms(9, 0, 11), 500)
    );
    assert_eq!(
        ex.condition_members("S001"),
        Some(vec![t(SAMSUNG), t(HYNIX)])
    );
    assert_eq!(
        ex.condition_member_codes("S001"),
        Some(vec![s(HYNIX), s(SAMSUNG), s("12345X")])
    );

    // A second registration replays the whole script from its own start.
    out.clear();
    let a2 = ex.register_alert("S001", 30_000).unwrap();
    assert_eq!(a2, "0000000002A");
    ex.advance(30_300, &mut out);
    assert_eq!(
        alerts(&out),
        vec![(a2.clone(), "N", s(SAMSUNG)), (a2.clone(), "N", s(HYNIX))]
    );
    // Unregistering stops it.
    ex.unregister_alert(&a2).unwrap();
    assert!(!ex.is_alert(&a2));
    out.clear();
    ex.advance(60_000, &mut out);
    assert!(out.is_empty());
    assert_eq!(
        ex.unregister_alert(&a2).unwrap_err().reason,
        RejectReason::UnknownAlert
    );
    assert_eq!(
        ex.register_alert("S999", 0).unwrap_err().reason,
        RejectReason::UnknownCondition
    );
    assert_eq!(ex.condition_members("S999"), None);
}

#[test]
fn scripted_alerts_interleave_with_trades_in_time_order() {
    let mut ex = with_scenario(ExchangeConfig::default(), SCRIPT);
    let mut out = Vec::new();
    ex.register_alert("S001", 500).unwrap();
    ex.advance(5_000, &mut out);
    assert_eq!(alerts(&out).len(), 5);
    let stamps: Vec<(TimeOfDay, u16)> = out
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some((t.time, t.ms)),
            Event::ConditionAlert(a) => Some((a.time, a.ms)),
            _ => None,
        })
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "causal order");
    assert!(trades(&out).len() > 300);
}

#[test]
fn momentum_enters_on_rising_volume_and_exits_with_hysteresis() {
    let mut ex = Exchange::new(quiet());
    let mut out = Vec::new();
    let a = ex.register_alert("0000", 0).unwrap();
    let p = |ex: &mut Exchange, px: i64, qty: u64, sec: u64, out: &mut Vec<Event>| {
        ex.force_print(t(SAMSUNG), px, qty, sec * 1_000, out)
    };
    // Busy first minute, quiet second minute, all at the previous close.
    for s in 0..60 {
        p(&mut ex, 55_500, 10, s, &mut out);
    }
    for s in 60..120 {
        p(&mut ex, 55_500, 1, s, &mut out);
    }
    // +2.16% but volume is falling: no entry.
    p(&mut ex, 56_700, 1, 120, &mut out);
    assert!(alerts(&out).is_empty());
    assert_eq!(ex.condition_members("0000"), Some(vec![]));
    // A heavy print makes the last minute outweigh the one before: enter.
    p(&mut ex, 56_700, 1_000, 121, &mut out);
    assert_eq!(alerts(&out), vec![(a.clone(), "N", SAMSUNG.to_owned())]);
    assert_eq!(ex.condition_members("0000"), Some(vec![t(SAMSUNG)]));
    let Some(Event::ConditionAlert(ev)) = out.last() else {
        panic!()
    };
    assert_eq!(
        (ev.price, ev.change, ev.sign, ev.chg_rate_bp),
        (Price::lit(56_700), 1_200, "2", 216)
    );
    // +1.26%: between exit and enter, stays.
    p(&mut ex, 56_200, 1, 122, &mut out);
    assert_eq!(alerts(&out).len(), 1);
    // +0.90%: below 1%, exits.
    p(&mut ex, 56_000, 1, 123, &mut out);
    // Back above 2% on volume: re-enters (R).
    p(&mut ex, 56_700, 5_000, 124, &mut out);
    assert_eq!(
        alerts(&out),
        vec![
            (a.clone(), "N", SAMSUNG.to_owned()),
            (a.clone(), "O", SAMSUNG.to_owned()),
            (a.clone(), "R", SAMSUNG.to_owned()),
        ]
    );
    // A registration made while it is a member counts it as entered already.
    let b = ex.register_alert("0000", 130_000).unwrap();
    out.clear();
    p(&mut ex, 55_500, 1, 130, &mut out);
    p(&mut ex, 56_700, 50_000, 131, &mut out);
    let got: Vec<_> = alerts(&out)
        .into_iter()
        .filter(|x| x.0 == b)
        .map(|x| x.1)
        .collect();
    assert_eq!(got, vec!["O", "R"]);
}

#[test]
fn hostile_input_never_panics() {
    let mut ex = Exchange::new(ExchangeConfig::default());
    let mut out = Vec::new();
    let weird = [
        "",
        "A",
        "AAAAAAA",
        "００５９３０",
        "0059300",
        "-05930",
        "A005930\0",
        "😀😀😀",
    ];
    for w in weird {
        for (qty, price) in [
            (i64::MIN, i64::MIN),
            (i64::MAX, i64::MAX),
            (1, 55_500),
            (0, 0),
        ] {
            for pt in ["00", "03", "99", "", "0"] {
                for side in [Side::Buy, Side::Sell] {
                    let _ = ex.submit(order(w, side, qty, price, pt), 1_000, &mut out);
                    let _ = ex.submit(order(SAMSUNG, side, qty, price, pt), 1_000, &mut out);
                }
            }
            for org in [i64::MIN, -1, 0, FIRST_ORD_NO, i64::MAX] {
                let _ = ex.modify(
                    ModifyOrder {
                        org_ord_no: org,
                        isu_no: w.into(),
                        qty,
                        price_type: "00".into(),
                        price,
                    },
                    1_000,
                    &mut out,
                );
                let _ = ex.cancel(
                    CancelOrder {
                        org_ord_no: org,
                        isu_no: w.into(),
                        qty,
                    },
                    1_000,
                    &mut out,
                );
            }
        }
        let _ = ex.register_alert(w, 0);
        let _ = ex.unregister_alert(w);
        let _ = ex.condition_members(w);
    }
    ex.advance(u64::MAX, &mut out);
    ex.burst(10, u64::MAX, &mut out);
    let _ = Scenario::parse("at 18446744073709551615ms S1 enter x\ncondition S1 y\n");
    let _ = Scenario::parse("holding 005930 9223372036854775807 9223372036854775807\n");
    let _ = Scenario::parse("\u{feff}# bom\ncondition\tS1\tname\n");
}

#[test]
fn config_and_views() {
    let ex = with_scenario(
        ExchangeConfig { cash: 5, ..quiet() },
        "cash 50000000\nholding 000660 3 170001\n",
    );
    let a = ex.account();
    assert_eq!((a.account_no.as_str(), a.cash), ("55501234501", 50_000_000));
    let h = a.holding(t(HYNIX)).unwrap();
    assert_eq!(
        (h.cost, h.avg_price, h.last_price),
        (510_003, Price::lit(170_001), Price::lit(178_000))
    );
    assert_eq!((h.eval, h.unrealized_pnl), (534_000, 23_997));
    assert_eq!(
        (a.eval_total, a.cost_total, a.total_assets),
        (534_000, 510_003, 50_534_000)
    );
    assert_eq!(ex.listings().len(), 50);
    let l = ex.listing(t(SAMSUNG)).unwrap();
    assert_eq!(
        (l.name, l.isin.as_str(), l.market.gubun()),
        ("삼성전자", "KR7005930003", "1")
    );
    let q = ex.quote(t(SAMSUNG)).unwrap();
    assert_eq!(
        (q.price, q.open, q.volume, q.sign()),
        (Price::lit(55_500), Price::lit(0), 0, "3")
    );
    assert_eq!(ex.clock(61_234), TimeOfDay::hms(9, 1, 1));
    assert_eq!(fmt_hhmmssmmm(TimeOfDay::hms(9, 1, 1), 234), "090101234");
    assert_eq!(fmt_hhmmsscc(TimeOfDay::hms(9, 1, 1), 234), "09010123");
}

/// Random requests against the generated tape; after every step the account must agree
/// with the order rows to the won and the share.
#[test]
fn account_and_orders_stay_consistent_under_random_traffic() {
    let mut ex = with_scenario(
        ExchangeConfig {
            cash: 20_000_000,
            commission_ppm: 150,
            sell_tax_ppm: 1_800,
            trades_per_sec: 5.0,
            ..ExchangeConfig::default()
        },
        "holding 005930 300 54000\nholding 000660 50 170000\nholding 035720 500 36000\n",
    );
    let codes = [SAMSUNG, HYNIX, "035720"];
    let mut rng = fastrand::Rng::with_seed(99);
    let mut out = Vec::new();
    let mut accepted = 0;
    for step in 1..=4_000u64 {
        let now = step * 50;
        ex.advance(now, &mut out);
        let code = codes[rng.usize(..codes.len())];
        let q = ex.quote(t(code)).unwrap().clone();
        let ticks = rng.i64(-3..=3);
        let mut px = q.price;
        for _ in 0..ticks.abs() {
            px = if ticks > 0 {
                condor_model::market::tick_up(px).unwrap()
            } else {
                condor_model::market::tick_down(px)
            };
        }
        let px = q.limits.clamp(px).won();
        let working: Vec<i64> = ex
            .orders()
            .iter()
            .filter(|o| o.is_working())
            .map(|o| o.ord_no)
            .collect();
        let r = match rng.u32(0..10) {
            0..=2 => ex.submit(buy(code, rng.i64(1..=60), px), now, &mut out),
            3..=5 => ex.submit(sell(code, rng.i64(1..=60), px), now, &mut out),
            6 => ex.submit(market_buy(code, rng.i64(1..=20)), now, &mut out),
            7 if !working.is_empty() => {
                let o = ex
                    .order(working[rng.usize(..working.len())])
                    .unwrap()
                    .clone();
                let q = ex.quote(o.ticker).unwrap();
                ex.modify(
                    ModifyOrder {
                        org_ord_no: o.ord_no,
                        isu_no: o.ticker.to_string(),
                        qty: rng.i64(0..=o.remaining as i64 + 5),
                        price_type: "00".into(),
                        price: q.price.won(),
                    },
                    now,
                    &mut out,
                )
            }
            8 if !working.is_empty() => {
                let o = ex
                    .order(working[rng.usize(..working.len())])
                    .unwrap()
                    .clone();
                ex.cancel(
                    CancelOrder {
                        org_ord_no: o.ord_no,
                        isu_no: o.ticker.shtn_isu_no(),
                        qty: rng.i64(0..=o.remaining as i64 + 5),
                    },
                    now,
                    &mut out,
                )
            }
            _ => continue,
        };
        accepted += usize::from(r.is_ok());
        let a = ex.account();
        let reserved: i64 = ex
            .orders()
            .iter()
            .filter(|o| o.side == Side::Buy)
            .map(|o| o.reserved)
            .sum();
        assert_eq!(a.reserved, reserved, "step {step}");
        assert!(a.orderable >= 0 && a.cash >= 0, "step {step}: {a:?}");
        for code in codes {
            let working_sell: u64 = ex
                .orders()
                .iter()
                .filter(|o| o.side == Side::Sell && o.ticker == t(code))
                .map(|o| o.remaining)
                .sum();
            let (qty, sellable) = a.holding(t(code)).map_or((0, 0), |h| (h.qty, h.sellable));
            assert_eq!(qty - sellable, working_sell, "step {step} {code}");
        }
        for o in ex.orders() {
            assert!(o.filled_qty + o.remaining <= o.qty, "{o:?}");
            assert_eq!(
                o.is_working(),
                matches!(
                    o.status,
                    OrderStatus::Accepted | OrderStatus::ModifyConfirmed
                ),
                "{o:?}"
            );
        }
    }
    assert!(accepted > 1_000, "{accepted} accepted");
    assert!(!fills(&out).is_empty());
}

/// Day after day (a scaled clock): from Thursday 2026-12-03 15:29:00.
fn days_from_thursday_close() -> Exchange {
    Exchange::new(ExchangeConfig {
        start_time: TimeOfDay::hms(15, 29, 0),
        first_day: Some("2026-12-03".parse().unwrap()),
        gap_ups: 0,
        ..ExchangeConfig::default()
    })
}

const MIN_MS: u64 = 60_000;

#[test]
fn day_after_day_trades_stop_at_the_close_and_resume_at_the_next_sessions_open() {
    let mut ex = days_from_thursday_close();
    let mut out = Vec::new();
    // Through Thursday's close and the night, to Friday 09:05.
    let friday_0905 = (17 * 60 + 36) * MIN_MS;
    ex.advance(friday_0905, &mut out);
    let all = trades(&out);
    let (thursday, friday): (Vec<TradeEvent>, Vec<TradeEvent>) =
        all.iter().partition(|t| t.time >= TimeOfDay::hms(15, 0, 0));
    assert!(
        thursday.len() > 50 && friday.len() > 100,
        "{} {}",
        thursday.len(),
        friday.len()
    );
    assert!(thursday.iter().all(|t| t.time < TimeOfDay::hms(15, 30, 0)));
    assert!(friday
        .iter()
        .all(|t| (TimeOfDay::hms(9, 0, 0)..TimeOfDay::hms(9, 5, 0)).contains(&t.time)));
    // Every Thursday print comes before every Friday one.
    let last_thursday = thursday.iter().map(|t| t.seq).max().unwrap();
    assert!(friday.iter().all(|t| t.seq > last_thursday));
    assert_eq!(ex.day_at(friday_0905).unwrap().to_string(), "2026-12-04");
    // Friday's previous close is Thursday's last price, and its limits follow.
    let sam = t(SAMSUNG);
    let thursday_last = thursday.iter().rfind(|t| t.ticker == sam).unwrap();
    let friday_first = friday.iter().find(|t| t.ticker == sam).unwrap();
    assert_eq!(friday_first.prev_close, thursday_last.price);
    assert_eq!(
        friday_first.upper_limit,
        DailyLimitsOf::from_base(thursday_last.price).upper
    );
    assert_eq!(friday_first.open, friday_first.price, "a new day's open");
}

#[test]
fn day_after_day_orders_are_refused_outside_the_session_and_weekends_print_nothing() {
    let mut ex = days_from_thursday_close();
    let mut out = Vec::new();
    // Thursday 15:45: closed, with LS's 장운영시간 answer.
    let rej = ex
        .submit(buy(SAMSUNG, 1, 55_500), 16 * MIN_MS, &mut out)
        .unwrap_err();
    assert_eq!(rej.reason, RejectReason::MarketClosed);
    assert!(rej.detail.contains("2026-12-03 15:45:00"), "{}", rej.detail);
    // Friday 09:01: taken.
    let friday_0901 = (17 * 60 + 32) * MIN_MS;
    ex.advance(friday_0901, &mut out);
    assert!(ex
        .submit(buy(SAMSUNG, 1, 55_500), friday_0901, &mut out)
        .is_ok());
    // Friday's close to Monday 09:00 prints nothing; Monday's session does.
    let friday_close = (24 * 60 + 1) * MIN_MS;
    ex.advance(friday_close, &mut out);
    out.clear();
    let monday_0900 = friday_close + (65 * 60 + 30) * MIN_MS;
    ex.advance(monday_0900, &mut out);
    assert!(
        trades(&out).is_empty(),
        "{} trades over the weekend",
        out.len()
    );
    assert!(!ex.is_open(monday_0900 - 1));
    assert!(ex.is_open(monday_0900));
    ex.advance(monday_0900 + MIN_MS, &mut out);
    let monday = trades(&out);
    assert!(!monday.is_empty());
    assert!(monday.iter().all(|t| t.time >= TimeOfDay::hms(9, 0, 0)));
    assert_eq!(ex.day_at(monday_0900).unwrap().to_string(), "2026-12-07");
}

#[test]
fn day_after_day_a_configured_closure_and_a_late_open_are_the_exchanges_days_too() {
    // Friday 2026-12-04 closed by the operator (CONDOR_CLOSED_DAYS), Monday opening at
    // 10:00 (CONDOR_LATE_OPEN): Thursday's close runs to Monday 10:00 without a print.
    let calendar = Calendar::krx()
        .with_closures("2026-12-04")
        .unwrap()
        .with_late_opens("2026-12-07@10:00")
        .unwrap();
    let mut ex = Exchange::new(ExchangeConfig {
        start_time: TimeOfDay::hms(15, 29, 0),
        first_day: Some("2026-12-03".parse().unwrap()),
        gap_ups: 0,
        calendar,
        ..ExchangeConfig::default()
    });
    let mut out = Vec::new();
    let thursday_close = MIN_MS;
    ex.advance(thursday_close, &mut out);
    out.clear();
    // Friday 09:30, a weekday the calendar closed: no print, orders refused.
    let friday_0930 = thursday_close + 18 * 60 * MIN_MS;
    assert_eq!(ex.day_at(friday_0930).unwrap().to_string(), "2026-12-04");
    assert!(!ex.is_open(friday_0930));
    let rej = ex
        .submit(buy(SAMSUNG, 1, 55_500), friday_0930, &mut out)
        .unwrap_err();
    assert_eq!(rej.reason, RejectReason::MarketClosed);
    out.clear();
    let monday_1000 = thursday_close + (90 * 60 + 30) * MIN_MS;
    ex.advance(monday_1000, &mut out);
    assert!(
        trades(&out).is_empty(),
        "{} trades on the closed Friday, the weekend or before Monday's late open",
        trades(&out).len()
    );
    assert!(!ex.is_open(monday_1000 - 1));
    assert!(ex.is_open(monday_1000));
    ex.advance(monday_1000 + MIN_MS, &mut out);
    let monday = trades(&out);
    assert!(!monday.is_empty());
    assert!(monday.iter().all(|t| t.time >= TimeOfDay::hms(10, 0, 0)));
    assert_eq!(ex.day_at(monday_1000).unwrap().to_string(), "2026-12-07");
}

#[test]
fn orders_working_at_the_close_expire_there_with_one_sc3_and_the_reserve_released() {
    // One day: from 15:29, a buy far under the market and a sell of a holding far above it.
    let mut ex = with_scenario(
        ExchangeConfig {
            start_time: TimeOfDay::hms(15, 29, 0),
            ..quiet()
        },
        "holding 000660 10 170000\n",
    );
    let mut out = Vec::new();
    let b = ex.submit(buy(SAMSUNG, 10, 50_000), 0, &mut out).unwrap();
    let s = ex.submit(sell(HYNIX, 4, 200_000), 1_000, &mut out).unwrap();
    assert!(ex.account().reserved > 0);
    assert_eq!(ex.account().holding(t(HYNIX)).unwrap().sellable, 6);
    out.clear();
    // 15:29:59.999: still working.
    ex.advance(59_999, &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert!(ex.order(b.ord_no).unwrap().is_working());
    // Past the close: each remainder cancelled by the exchange at 15:30:00.000, one SC3
    // (no SC0: nobody asked), on cancel rows of the exchange's own numbers.
    ex.advance(90_000, &mut out);
    let expired: Vec<(i64, i64, u64, u64, u64, TimeOfDay, u16)> = out
        .iter()
        .map(|e| match e {
            Event::OrderCancelled(c) => (
                c.ord_no,
                c.org_ord_no,
                c.qty,
                c.org_remaining_before,
                c.org_remaining_after,
                c.time,
                c.ms,
            ),
            other => panic!("only cancels at the close: {other:?}"),
        })
        .collect();
    let close = TimeOfDay::hms(15, 30, 0);
    assert_eq!(
        expired,
        [
            (s.ord_no + 1, b.ord_no, 10, 10, 0, close, 0),
            (s.ord_no + 2, s.ord_no, 4, 4, 0, close, 0)
        ]
    );
    let a = ex.account();
    assert_eq!((a.reserved, a.orderable, a.cash), (0, CASH, CASH));
    assert_eq!(a.holding(t(HYNIX)).unwrap().sellable, 10);
    // The day's list (t0425) still shows them: the originals 완료, the cancels 취소확인.
    let labels: Vec<&str> = ex.orders().iter().map(|o| o.status.label()).collect();
    assert_eq!(labels, ["완료", "완료", "취소확인", "취소확인"]);
    // Nothing left to expire or to fill.
    out.clear();
    ex.advance(3_600_000, &mut out);
    ex.settle_day(3_600_000, &mut out);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn day_after_day_the_close_expires_the_days_orders_and_the_next_day_lists_none() {
    let mut ex = days_from_thursday_close();
    let mut out = Vec::new();
    let thursday = ex.submit(buy(SAMSUNG, 5, 40_000), 0, &mut out).unwrap();
    out.clear();
    // Friday 09:01 in one step (a night at the idle speed): the close came first.
    let friday_0901 = (17 * 60 + 32) * MIN_MS;
    ex.advance(friday_0901, &mut out);
    let cancels: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Event::OrderCancelled(c) => Some((c.org_ord_no, c.qty, c.time)),
            _ => None,
        })
        .collect();
    assert_eq!(
        cancels,
        [(thursday.ord_no, 5, TimeOfDay::hms(15, 30, 0))],
        "Thursday's order expired at Thursday's close"
    );
    assert!(
        out.iter()
            .position(|e| matches!(e, Event::OrderCancelled(_)))
            < out.iter().position(|e| matches!(e, Event::Trade(_))),
        "before Friday's first print"
    );
    // Friday's list is empty; its first order's number follows Thursday's last row (the
    // expiry's cancel), so no number is given twice; Thursday's is unknown now.
    assert!(ex.orders().is_empty());
    let friday = ex
        .submit(buy(SAMSUNG, 1, 40_000), friday_0901, &mut out)
        .unwrap();
    assert_eq!(friday.ord_no, thursday.ord_no + 2);
    assert_eq!(
        ex.orders().iter().map(|o| o.ord_no).collect::<Vec<_>>(),
        [friday.ord_no]
    );
    let e = ex
        .cancel(
            CancelOrder {
                org_ord_no: thursday.ord_no,
                isu_no: SAMSUNG.into(),
                qty: 0,
            },
            friday_0901 + 1_000,
            &mut out,
        )
        .unwrap_err();
    assert_eq!(e.reason, RejectReason::UnknownOrder);
    // Friday's own order is cancelled by number as usual.
    let c = ex
        .cancel(
            CancelOrder {
                org_ord_no: friday.ord_no,
                isu_no: SAMSUNG.into(),
                qty: 0,
            },
            friday_0901 + 2_000,
            &mut out,
        )
        .unwrap();
    assert_eq!((c.org_ord_no, c.ord_no), (friday.ord_no, friday.ord_no + 1));
    assert_eq!(ex.account().reserved, 0);
}
