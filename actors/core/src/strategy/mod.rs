//! Trading strategies: one plain state machine per watched ticker that turns condition
//! changes, ticks and our own fills into [`Signal`]s, and the built-in
//! [`MomentumStrategy`] (조건검색 편입 → 체결 강세 확인 → 매수, 익절/손절/시간청산/장마감 청산);
//! the [`StrategyRegistry`] that configuration picks a strategy from by name.
//!
//! Owns entry and exit decisions only. Must never hold actix types, a clock or I/O: the
//! Processor calls these methods in mailbox order, the OrderManager decides whether an
//! intent becomes an order, and every time the strategy sees comes from the data it is fed
//! (tick exchange time, fill time, timer time), so a replay gives the same signals.
//!
//! Contract with the caller: every `on_fill` of an order comes before that order's
//! `on_order_done`.

use std::fmt;

use crate::domain::{Fill, OrderIntent, OrderType, Tick};
use crate::market::{Qty, Side, Ticker, TimeOfDay};

pub mod holding;
mod job;
mod momentum;
mod params;
mod vwap_band;

pub use job::{ComputeJob, JobAnswer, JobOutput};
pub use momentum::{
    MomentumFactory, MomentumParams, MomentumStrategy, MAX_CONFIRM_TICKS, MAX_ENTRY_SLIPPAGE_TICKS,
};
pub use params::{InvalidParam, ParamKind, ParamSpec, ParamValue, Params, COMMON};
pub use vwap_band::{
    SessionScore, SessionTrade, VwapBandFactory, VwapBandParams, VwapBandStrategy,
};

/// What a strategy wants done, as data; [`Signal::into_intent`] makes it an [`OrderIntent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Buy {
        qty: Qty,
        order_type: OrderType,
        reason: &'static str,
    },
    Sell {
        qty: Qty,
        order_type: OrderType,
        reason: &'static str,
    },
}

impl Signal {
    pub fn side(&self) -> Side {
        match self {
            Signal::Buy { .. } => Side::Buy,
            Signal::Sell { .. } => Side::Sell,
        }
    }

    pub fn qty(&self) -> Qty {
        match *self {
            Signal::Buy { qty, .. } | Signal::Sell { qty, .. } => qty,
        }
    }

    pub fn order_type(&self) -> OrderType {
        match *self {
            Signal::Buy { order_type, .. } | Signal::Sell { order_type, .. } => order_type,
        }
    }

    pub fn reason(&self) -> &'static str {
        match *self {
            Signal::Buy { reason, .. } | Signal::Sell { reason, .. } => reason,
        }
    }

    /// The intent for a signal `tick` caused: its ticker, sequence number and receive time.
    pub fn into_intent(self, tick: &Tick) -> OrderIntent {
        OrderIntent {
            tick_seq: tick.seq,
            tick_received_at: Some(tick.received_at),
            ..self.into_timer_intent(tick.ticker)
        }
    }

    /// The intent for a signal a job's answer caused: the tick that asked for the job is
    /// its cause (`tick_seq`, and `received_at` for the tick → intent latency, compute
    /// time included).
    pub fn into_job_intent(
        self,
        ticker: Ticker,
        asked_on: u64,
        received_at: Option<std::time::Instant>,
    ) -> OrderIntent {
        OrderIntent {
            tick_seq: asked_on,
            tick_received_at: received_at,
            ..self.into_timer_intent(ticker)
        }
    }

    /// The intent for a signal no tick caused (from [`Strategy::on_timer`]): `tick_seq` 0.
    pub fn into_timer_intent(self, ticker: Ticker) -> OrderIntent {
        OrderIntent {
            ticker,
            side: self.side(),
            qty: self.qty(),
            order_type: self.order_type(),
            reason: self.reason(),
            tick_seq: 0,
            tick_received_at: None,
        }
    }
}

/// One strategy state for one ticker. Object-safe: the Processor keeps
/// `HashMap<Ticker, Box<dyn Strategy>>`.
pub trait Strategy: Send {
    /// The strategy's configuration name, e.g. `"momentum"`.
    fn name(&self) -> &'static str;

    /// The screener says the ticker now matches the condition (편입).
    fn on_condition_enter(&mut self, now: TimeOfDay);

    /// The screener says the ticker no longer matches (이탈).
    fn on_condition_exit(&mut self, now: TimeOfDay);

    /// Every trade of the ticker, in order.
    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>);

    /// A periodic wake-up with the market's time (the latest trade time, moved on by the
    /// engine's clock), so time-based exits happen even when the ticker stops trading.
    /// Not called before the run's first trade. Signals from here carry no tick.
    fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<Signal>) {
        let _ = (now, out);
    }

    /// CPU-heavy work this strategy wants done off the event loop, asked for by the
    /// `on_tick` just called: the driver takes it after every `on_tick` (so at most one a
    /// tick) and runs it in the Compute pool (live) or inline (replay, backtest). See
    /// [`ComputeJob`] for what the strategy sees of the answer.
    fn take_job(&mut self) -> Option<ComputeJob> {
        None
    }

    /// The answer to a job this strategy asked for, while it is still in the same stay in
    /// the condition it asked in. Signals from here count as caused by the tick that asked.
    fn on_job_done(&mut self, answer: &JobAnswer, out: &mut Vec<Signal>) {
        let _ = (answer, out);
    }

    /// An execution of one of our orders for this ticker.
    fn on_fill(&mut self, fill: &Fill);

    /// One of our orders reached a final state (filled, cancelled or rejected) with
    /// `filled` shares executed in total.
    fn on_order_done(&mut self, side: Side, filled: Qty, rejected: bool);

    /// Shares held according to the fills seen.
    fn position(&self) -> Qty;

    /// True while an order this strategy asked for has not reached a final state.
    fn has_working_order(&self) -> bool;
}

/// Builds a fresh strategy for each ticker the screener hands the engine.
pub trait StrategyFactory: Send {
    fn name(&self) -> &'static str;
    fn build(&self, ticker: Ticker) -> Box<dyn Strategy>;
}

/// Builds a strategy's factory from its validated parameters ([`COMMON`]'s and the ones it
/// declared); an error names a parameter that fails a check across several of them.
/// `Send + Sync`: a backtest sweep builds strategies on every core.
pub type StrategyBuilder =
    Box<dyn Fn(&Params) -> Result<Box<dyn StrategyFactory>, InvalidParam> + Send + Sync>;

/// One registered strategy.
struct Registered {
    name: String,
    about: String,
    params: Vec<ParamSpec>,
    build: StrategyBuilder,
}

/// Every strategy configuration can name (`CONDOR_STRATEGY`, a condition's `strategy` in
/// `condor.toml`), the built-ins and a user's own alike: each is a name, one line about it,
/// the parameters it declares and a [`StrategyBuilder`]. Names are matched ignoring case
/// and surrounding spaces; registering a name again replaces the earlier one (so a user's
/// program may replace a built-in).
pub struct StrategyRegistry {
    entries: Vec<Registered>,
}

impl Default for StrategyRegistry {
    fn default() -> Self {
        StrategyRegistry::new()
    }
}

impl fmt::Debug for StrategyRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// A registered strategy as `condor strategies` shows it.
#[derive(Debug)]
pub struct StrategyInfo<'a> {
    pub name: &'a str,
    pub about: &'a str,
    /// Every parameter at its default, [`COMMON`]'s first.
    pub defaults: Params,
}

impl StrategyRegistry {
    /// The built-in strategies.
    pub fn new() -> StrategyRegistry {
        let mut registry = StrategyRegistry {
            entries: Vec::new(),
        };
        registry.register(
            MomentumStrategy::NAME,
            "buy after 편입 once trades rise in a row on buyers' volume; take-profit, stop-loss, time stop, flatten",
            MomentumParams::SPECS,
            |p| Ok(Box::new(MomentumFactory { params: MomentumParams::from_params(p)? })),
        );
        registry.register(
            VwapBandStrategy::NAME,
            "after 편입, score the session's trades (VWAP, trend) in the Compute pool; buy just above a rising VWAP",
            VwapBandParams::SPECS,
            |p| Ok(Box::new(VwapBandFactory { params: VwapBandParams::from_params(p)? })),
        );
        registry
    }

    /// Makes `name` select the strategy `build` makes, configured by [`COMMON`] and
    /// `params`. Panics on a blank name, a parameter declared twice or a default outside
    /// its range: mistakes in the program registering it, found the first time it starts.
    pub fn register(
        &mut self,
        name: impl Into<String>,
        about: impl Into<String>,
        params: &[ParamSpec],
        build: impl Fn(&Params) -> Result<Box<dyn StrategyFactory>, InvalidParam>
            + Send
            + Sync
            + 'static,
    ) -> &mut StrategyRegistry {
        let name = name.into().trim().to_owned();
        assert!(!name.is_empty(), "a strategy needs a name");
        Params::new(params); // the declaration's own checks, at once
        let entry = Registered {
            name,
            about: about.into(),
            params: params.to_vec(),
            build: Box::new(build),
        };
        match self
            .entries
            .iter_mut()
            .find(|e| e.name.eq_ignore_ascii_case(&entry.name))
        {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
        self
    }

    /// The registered names, in the order they were first registered.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Every registered strategy with its parameters at their defaults.
    pub fn strategies(&self) -> impl Iterator<Item = StrategyInfo<'_>> {
        self.entries.iter().map(|e| StrategyInfo {
            name: &e.name,
            about: &e.about,
            defaults: Params::new(&e.params),
        })
    }

    fn find(&self, name: &str) -> Result<&Registered, UnknownStrategy> {
        let wanted = name.trim();
        self.entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownStrategy {
                name: name.to_owned(),
                known: self.names().map(str::to_owned).collect(),
            })
    }

    /// The parameters of the strategy called `name`, each at its default: set them by
    /// name, then [`Self::build`].
    pub fn params(&self, name: &str) -> Result<Params, UnknownStrategy> {
        self.find(name).map(|e| Params::new(&e.params))
    }

    /// The factory for the strategy called `name` (case and surrounding spaces ignored),
    /// built with `params` (from [`Self::params`] of the same name).
    pub fn build(
        &self,
        name: &str,
        params: &Params,
    ) -> Result<Box<dyn StrategyFactory>, StrategyError> {
        let entry = self.find(name)?;
        if params.names() != Params::new(&entry.params).names() {
            return Err(StrategyError::NotItsParams {
                strategy: entry.name.clone(),
                names: params.names().join(", "),
            });
        }
        Ok((entry.build)(params)?)
    }
}

impl StrategyRegistry {
    /// The strategy `name` built from recorded settings (a tape's `Started`, a journal's
    /// settings): each of its parameters named there is set, every other setting ignored.
    pub fn build_from_settings<'a>(
        &self,
        name: &str,
        settings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Box<dyn StrategyFactory>, StrategyError> {
        let mut params = self.params(name)?;
        for (k, v) in settings {
            params.set(k, v)?;
        }
        self.build(name, &params)
    }
}

/// A strategy name configuration asked for that is not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {name:?}; known strategies: {}", known.join(", "))]
pub struct UnknownStrategy {
    pub name: String,
    /// Every registered name.
    pub known: Vec<String>,
}

/// Why a strategy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    #[error(transparent)]
    Unknown(#[from] UnknownStrategy),
    #[error(transparent)]
    Invalid(#[from] InvalidParam),
    /// A program's mistake: parameters made for another strategy.
    #[error("parameters ({names}) are not strategy {strategy}'s")]
    NotItsParams { strategy: String, names: String },
}

/// The factory for the built-in strategy called `name` (case and surrounding spaces
/// ignored); [`StrategyRegistry`] for a registry with a user's strategies too.
pub fn strategy_by_name(
    name: &str,
    params: &Params,
) -> Result<Box<dyn StrategyFactory>, StrategyError> {
    StrategyRegistry::new().build(name, params)
}

/// One input to a strategy, for replaying a recorded session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrategyEvent {
    ConditionEnter(TimeOfDay),
    ConditionExit(TimeOfDay),
    Tick(Tick),
    Timer(TimeOfDay),
    Fill(Fill),
    OrderDone {
        side: Side,
        filled: Qty,
        rejected: bool,
    },
}

impl fmt::Display for StrategyEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategyEvent::ConditionEnter(t) => write!(f, "{t} condition enter"),
            StrategyEvent::ConditionExit(t) => write!(f, "{t} condition exit"),
            StrategyEvent::Tick(k) => write!(f, "{} tick {} x{}", k.exchange_time, k.price, k.qty),
            StrategyEvent::Timer(t) => write!(f, "{t} timer"),
            StrategyEvent::Fill(x) => {
                write!(f, "{} fill {:?} {} x{}", x.time, x.side, x.price, x.qty)
            }
            StrategyEvent::OrderDone { side, filled, .. } => {
                write!(f, "order done {side:?} filled {filled}")
            }
        }
    }
}

/// Feeds one event to `strategy` and appends the intents it produced.
pub fn apply_event(
    strategy: &mut dyn Strategy,
    ticker: Ticker,
    event: &StrategyEvent,
    intents: &mut Vec<OrderIntent>,
) {
    let mut signals = Vec::new();
    match event {
        StrategyEvent::ConditionEnter(t) => strategy.on_condition_enter(*t),
        StrategyEvent::ConditionExit(t) => strategy.on_condition_exit(*t),
        StrategyEvent::Tick(tick) => {
            strategy.on_tick(tick, &mut signals);
            intents.extend(signals.drain(..).map(|s| s.into_intent(tick)));
        }
        StrategyEvent::Timer(t) => {
            strategy.on_timer(*t, &mut signals);
            intents.extend(signals.drain(..).map(|s| s.into_timer_intent(ticker)));
        }
        StrategyEvent::Fill(fill) => strategy.on_fill(fill),
        StrategyEvent::OrderDone {
            side,
            filled,
            rejected,
        } => strategy.on_order_done(*side, *filled, *rejected),
    }
}

/// Replays `events` through `strategy` in order and returns every intent, in order. The
/// same events give the same intents: strategies read no clock of their own.
pub fn replay<'a>(
    strategy: &mut dyn Strategy,
    ticker: Ticker,
    events: impl IntoIterator<Item = &'a StrategyEvent>,
) -> Vec<OrderIntent> {
    let mut intents = Vec::new();
    for event in events {
        apply_event(strategy, ticker, event, &mut intents);
    }
    intents
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::market::{Price, Ticker};

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn momentum_defaults() -> Params {
        MomentumParams::default().to_params().unwrap()
    }

    #[test]
    fn strategies_live_in_a_map_by_ticker() {
        let factory = strategy_by_name(" Momentum ", &momentum_defaults()).unwrap();
        assert_eq!(factory.name(), "momentum");
        let other = Ticker::parse("000660").unwrap();
        let mut map: HashMap<Ticker, Box<dyn Strategy>> = HashMap::new();
        for ticker in [samsung(), other] {
            map.insert(ticker, factory.build(ticker));
        }
        let s = map.get_mut(&samsung()).unwrap();
        assert_eq!(s.name(), "momentum");
        s.on_condition_enter(TimeOfDay::hms(9, 30, 0));
        assert_eq!(s.position(), Qty::lit(0));
        // A tick for another ticker is ignored, not traded.
        let tick = Tick {
            ticker: other,
            price: Price::lit(10_500),
            qty: Qty::lit(10),
            cum_volume: 10,
            prev_close: Price::lit(10_000),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 30, 1),
            received_at: std::time::Instant::now(),
            seq: 1,
        };
        let mut out = Vec::new();
        for _ in 0..3 {
            s.on_tick(&tick, &mut out);
        }
        assert!(out.is_empty());
    }

    #[test]
    fn unknown_strategy_lists_the_known_ones() {
        let e = strategy_by_name("macd", &momentum_defaults())
            .err()
            .unwrap();
        let msg = e.to_string();
        assert!(
            msg.contains("\"macd\"") && msg.contains("momentum"),
            "{msg}"
        );
        assert!(matches!(e, StrategyError::Unknown(u) if u.name == "macd"));
    }

    /// A user's strategy, as far as the registry can tell: a name and a parameter of its own.
    struct Renamed(&'static str, MomentumParams);

    impl StrategyFactory for Renamed {
        fn name(&self) -> &'static str {
            self.0
        }
        fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
            Box::new(MomentumStrategy::new(ticker, self.1))
        }
    }

    const BREAKOUT: &[ParamSpec] = &[ParamSpec::int(
        "lookback",
        2,
        50,
        5,
        "trades whose high the entry must clear",
    )];

    fn breakout(p: &Params) -> Result<Box<dyn StrategyFactory>, InvalidParam> {
        let m = MomentumParams {
            budget_won: p.int("budget_won"),
            confirm_ticks: p.uint("lookback"),
            ..MomentumParams::default()
        };
        Ok(Box::new(Renamed("breakout", m)))
    }

    #[test]
    fn a_registered_strategy_is_built_by_name_with_its_own_parameters() {
        let mut registry = StrategyRegistry::new();
        registry.register("breakout", "a test's", BREAKOUT, breakout);
        assert_eq!(
            registry.names().collect::<Vec<_>>(),
            ["momentum", "vwap-band", "breakout"]
        );
        let mut params = registry.params("BREAKOUT").unwrap();
        assert_eq!(
            params.names(),
            ["budget_won", "entry_cutoff", "flatten_at", "lookback"]
        );
        assert_eq!(params.set("lookback", "9"), Ok(true));
        assert_eq!(
            params.set("confirm_ticks", "9"),
            Ok(false),
            "momentum's, not its"
        );
        let f = registry.build(" BreakOut ", &params).unwrap();
        assert_eq!(f.name(), "breakout");
        // Parameters made for another strategy are refused, not misread.
        let e = registry.build("momentum", &params).err().unwrap();
        assert!(matches!(e, StrategyError::NotItsParams { .. }), "{e}");
        let e = registry.build("macd", &params).err().unwrap();
        let msg = e.to_string();
        assert!(
            msg.contains("\"macd\"") && msg.contains("momentum, vwap-band, breakout"),
            "{msg}"
        );
        // The built-ins alone do not know it.
        let e = strategy_by_name("breakout", &params).err().unwrap();
        assert!(matches!(e, StrategyError::Unknown(u) if u.known == ["momentum", "vwap-band"]));
    }

    #[test]
    fn every_strategy_is_listed_with_its_defaults() {
        let mut registry = StrategyRegistry::new();
        registry.register("breakout", "a test's", BREAKOUT, breakout);
        let listed: Vec<(String, String)> = registry
            .strategies()
            .map(|s| (s.name.to_owned(), s.defaults.to_string()))
            .collect();
        assert_eq!(listed[0].0, "momentum");
        assert!(listed[0].1.contains("confirm_ticks=3"), "{listed:?}");
        assert_eq!(listed[1].0, "vwap-band");
        assert!(listed[1].1.contains("band_bp=150"), "{listed:?}");
        assert_eq!(
            listed[2],
            (
                "breakout".to_owned(),
                "budget_won=1000000 entry_cutoff=150000 flatten_at=151500 lookback=5".to_owned()
            )
        );
    }

    #[test]
    fn a_check_across_parameters_is_an_error_naming_one() {
        let mut p = momentum_defaults();
        p.set("entry_cutoff", "151600").unwrap();
        let e = strategy_by_name("momentum", &p).err().unwrap();
        assert!(
            matches!(&e, StrategyError::Invalid(i) if i.field == "entry_cutoff"),
            "{e}"
        );
    }

    #[test]
    fn registering_a_name_again_replaces_it_in_place() {
        let mut registry = StrategyRegistry::new();
        registry
            .register("breakout", "", BREAKOUT, breakout)
            .register("MOMENTUM", "mine", MomentumParams::SPECS, |p| {
                Ok(Box::new(Renamed(
                    "my-momentum",
                    MomentumParams::from_params(p)?,
                )))
            });
        assert_eq!(
            registry.names().collect::<Vec<_>>(),
            ["MOMENTUM", "vwap-band", "breakout"]
        );
        let f = registry.build("momentum", &momentum_defaults()).unwrap();
        assert_eq!(f.name(), "my-momentum");
    }
}
