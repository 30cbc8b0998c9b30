//! The simulated listing universe: real KRX short codes with their Korean names, the
//! market they trade on, a plausible previous close ON THE TICK GRID and a previous-day
//! volume, plus the ISIN (`KR7…`) LS reports next to the short code.
//!
//! Owns static reference data only. Must never hold running state (that is `walk::Quote`)
//! and never hand out a price that is off the grid: a unit test walks every row.

use condor_model::market::{DailyLimits, Market, Price, Ticker};

/// One listed stock as the exchange's master (t8436 / t1102 static fields) knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub ticker: Ticker,
    pub name: &'static str,
    pub market: Market,
    /// 전일종가, also the day's base price (기준가) for the ±30% band.
    pub prev_close: Price,
    pub limits: DailyLimits,
    /// 12-char ISIN, e.g. `KR7005930003` (SC0 `expcode`, SC1 `Isuno`).
    pub isin: String,
    /// Previous day's volume (S3_ `jnilvolume`, t1102 `jnilvolume`).
    pub prev_day_volume: u64,
}

/// (code, name, market, previous close, previous-day volume). Prices are late-2024-ish
/// levels; only their plausibility and grid membership matter.
const ROWS: &[(&str, &str, Market, i64, u64)] = &[
    ("005930", "삼성전자", Market::Kospi, 55_500, 15_000_000),
    ("000660", "SK하이닉스", Market::Kospi, 178_000, 3_000_000),
    ("373220", "LG에너지솔루션", Market::Kospi, 362_500, 250_000),
    (
        "207940",
        "삼성바이오로직스",
        Market::Kospi,
        1_012_000,
        60_000,
    ),
    ("005380", "현대차", Market::Kospi, 214_500, 600_000),
    ("000270", "기아", Market::Kospi, 97_400, 1_200_000),
    ("005490", "POSCO홀딩스", Market::Kospi, 268_000, 300_000),
    ("035420", "NAVER", Market::Kospi, 198_700, 700_000),
    ("035720", "카카오", Market::Kospi, 37_850, 1_800_000),
    ("051910", "LG화학", Market::Kospi, 243_500, 250_000),
    ("006400", "삼성SDI", Market::Kospi, 231_000, 300_000),
    ("068270", "셀트리온", Market::Kospi, 176_300, 700_000),
    ("105560", "KB금융", Market::Kospi, 82_700, 1_100_000),
    ("055550", "신한지주", Market::Kospi, 50_900, 1_300_000),
    ("012330", "현대모비스", Market::Kospi, 246_000, 200_000),
    ("028260", "삼성물산", Market::Kospi, 124_600, 300_000),
    ("066570", "LG전자", Market::Kospi, 82_300, 600_000),
    ("003550", "LG", Market::Kospi, 72_400, 200_000),
    ("017670", "SK텔레콤", Market::Kospi, 55_800, 300_000),
    ("030200", "KT", Market::Kospi, 44_150, 900_000),
    ("096770", "SK이노베이션", Market::Kospi, 112_700, 400_000),
    ("034730", "SK", Market::Kospi, 147_200, 150_000),
    ("015760", "한국전력", Market::Kospi, 21_350, 2_000_000),
    ("032830", "삼성생명", Market::Kospi, 93_500, 250_000),
    ("009150", "삼성전기", Market::Kospi, 123_400, 400_000),
    ("018260", "삼성에스디에스", Market::Kospi, 131_800, 150_000),
    ("011200", "HMM", Market::Kospi, 18_230, 3_000_000),
    ("010130", "고려아연", Market::Kospi, 742_000, 80_000),
    ("086790", "하나금융지주", Market::Kospi, 59_800, 1_200_000),
    ("033780", "KT&G", Market::Kospi, 112_900, 250_000),
    ("247540", "에코프로비엠", Market::Kosdaq, 104_300, 700_000),
    ("086520", "에코프로", Market::Kosdaq, 62_400, 900_000),
    ("196170", "알테오젠", Market::Kosdaq, 342_000, 300_000),
    ("028300", "HLB", Market::Kosdaq, 71_800, 900_000),
    ("293490", "카카오게임즈", Market::Kosdaq, 15_480, 700_000),
    ("263750", "펄어비스", Market::Kosdaq, 38_950, 500_000),
    ("035900", "JYP Ent.", Market::Kosdaq, 58_700, 400_000),
    ("041510", "에스엠", Market::Kosdaq, 74_500, 200_000),
    ("058470", "리노공업", Market::Kosdaq, 192_300, 60_000),
    ("039030", "이오테크닉스", Market::Kosdaq, 146_600, 100_000),
    ("357780", "솔브레인", Market::Kosdaq, 231_500, 60_000),
    ("145020", "휴젤", Market::Kosdaq, 278_000, 80_000),
    ("214150", "클래시스", Market::Kosdaq, 48_350, 300_000),
    ("240810", "원익IPS", Market::Kosdaq, 22_650, 400_000),
    ("036930", "주성엔지니어링", Market::Kosdaq, 29_850, 500_000),
    // The AFR sample in the reference shows 078150 at 2,435 up 45, i.e. a 2,390 close.
    ("078150", "HB테크놀러지", Market::Kosdaq, 2_390, 3_000_000),
    ("112040", "위메이드", Market::Kosdaq, 31_200, 600_000),
    ("067310", "하나마이크론", Market::Kosdaq, 11_960, 1_000_000),
    ("253450", "스튜디오드래곤", Market::Kosdaq, 41_800, 150_000),
    ("095340", "ISC", Market::Kosdaq, 57_900, 150_000),
];

/// Every listing, in table order (KOSPI first), then `synthetic` made-up listings for
/// load tests that need more tickers than the real table has. Rows whose code fails to
/// parse are skipped rather than panicking; a test asserts none is.
pub fn build(synthetic: usize) -> Vec<Listing> {
    let mut v: Vec<Listing> = ROWS
        .iter()
        .filter_map(|&(code, name, market, close, vol)| {
            let ticker = Ticker::parse(code).ok()?;
            Some(listing(ticker, name, market, Price::lit(close), vol))
        })
        .collect();
    v.extend((0..synthetic.min(MAX_SYNTHETIC)).filter_map(synthetic_listing));
    v
}

/// Synthetic codes are `99NNNN`: a range KRX does not use for stocks.
pub const MAX_SYNTHETIC: usize = 10_000;

/// The `i`th synthetic listing: alternating markets, a previous close on the grid
/// between 1,000 and about 200,000 won, deterministic in `i`.
fn synthetic_listing(i: usize) -> Option<Listing> {
    let ticker = Ticker::parse(&format!("99{i:04}")).ok()?;
    let market = if i % 2 == 0 {
        Market::Kospi
    } else {
        Market::Kosdaq
    };
    // A spread of price bands, so synthetic tickers exercise every tick size.
    let raw = 1_000 + (i as i64 * 7_919) % 199_000;
    let prev_close =
        condor_model::market::round_to_grid(Price::lit(raw), condor_model::market::Rounding::Down);
    Some(listing(
        ticker,
        "시뮬레이션종목",
        market,
        prev_close,
        100_000 + (i as u64 % 50) * 10_000,
    ))
}

fn listing(
    ticker: Ticker,
    name: &'static str,
    market: Market,
    prev_close: Price,
    vol: u64,
) -> Listing {
    Listing {
        ticker,
        name,
        market,
        prev_close,
        limits: DailyLimits::from_base(prev_close),
        isin: stock_isin(ticker),
        prev_day_volume: vol,
    }
}

/// True when `code` is one of the simulated listings (the scenario parser uses this to
/// refuse holdings in stocks the exchange cannot price).
pub fn is_listed(ticker: Ticker) -> bool {
    ROWS.iter().any(|r| r.0 == ticker.as_str())
}

/// ISIN of a KRX common stock: `KR7` + six-digit code + `00` + check digit.
pub fn stock_isin(ticker: Ticker) -> String {
    let body = format!("KR7{}00", ticker.as_str());
    let check = isin_check_digit(&body).unwrap_or(0);
    format!("{body}{check}")
}

/// The ISIN check digit of the first 11 characters: letters become two digits
/// (A=10 … Z=35), then Luhn over the resulting digit string, doubling from the
/// rightmost digit (it sits next to the check digit). `None` for other characters.
pub fn isin_check_digit(body: &str) -> Option<u8> {
    let mut digits: Vec<u8> = Vec::with_capacity(24);
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            'A'..='Z' => {
                let v = c as u8 - b'A' + 10;
                digits.push(v / 10);
                digits.push(v % 10);
            }
            _ => return None,
        }
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    Some(((10 - sum % 10) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::market::is_on_grid;

    #[test]
    fn isin_check_digits_match_real_isins() {
        let t = |c: &str| Ticker::parse(c).unwrap();
        assert_eq!(stock_isin(t("005930")), "KR7005930003");
        assert_eq!(stock_isin(t("000660")), "KR7000660001");
        // Two more published ones: NAVER and 카카오.
        assert_eq!(stock_isin(t("035420")), "KR7035420009");
        assert_eq!(stock_isin(t("035720")), "KR7035720002");
        assert_eq!(isin_check_digit("KR700593000"), Some(3));
        assert_eq!(isin_check_digit("KR7-05930-0"), None);
    }

    #[test]
    fn universe_is_complete_unique_and_on_grid() {
        let all = build(0);
        assert_eq!(all.len(), ROWS.len(), "every row parses");
        let kospi = all.iter().filter(|l| l.market == Market::Kospi).count();
        let kosdaq = all.iter().filter(|l| l.market == Market::Kosdaq).count();
        assert_eq!((kospi, kosdaq), (30, 20));
        let mut codes: Vec<_> = all.iter().map(|l| l.ticker).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes unique");
        for l in &all {
            assert!(
                is_on_grid(l.prev_close),
                "{} close {}",
                l.ticker,
                l.prev_close
            );
            assert!(is_on_grid(l.limits.upper) && is_on_grid(l.limits.lower));
            assert!(l.limits.lower < l.prev_close && l.prev_close < l.limits.upper);
            assert_eq!(l.isin.len(), 12);
            assert!(l.prev_day_volume > 0 && !l.name.is_empty());
            assert!(is_listed(l.ticker));
        }
        assert!(!is_listed(Ticker::parse("999999").unwrap()));
    }
}
