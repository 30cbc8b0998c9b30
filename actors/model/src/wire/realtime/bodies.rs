//! The bodies of LS's realtime data frames (reference §5.5, §5.7–§5.9): S3_/K3_ trades,
//! AFR condition alerts, SC0 order acceptances and SC1–SC4 order events, each with the
//! reference's full field set, plus typed accessors that turn the text into domain types.
//!
//! Every field is a `String`, as on the wire (numbers as decimal text). Fields a consumer
//! cannot do without are required, so a frame without one fails naming it; the rest
//! default to `""`, so a field LS stops sending breaks nothing. Must never panic and never
//! guess: an accessor returns a [`WireError`] naming the body, the field and the value.

use std::borrow::Cow;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::domain::Tick;
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
use crate::wire::num::{
    field_cum_volume, field_fixed, field_i64, field_price, field_price_or_zero, field_qty,
};
use crate::wire::{Sign, WireError};

/// S3_ (KOSPI) / K3_ (KOSDAQ) trade body; both TRs share this layout (§5.5). Sample:
/// `{"chetime":"090851","sign":"2","change":"1050","drate":"1.93","price":"55550",…}`.
/// Required: `shcode`, `price`, `chetime`, `cvolume`, `volume`, `sign`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeBody {
    /// 체결시간 (HHMMSS)
    pub chetime: String,
    /// 전일대비구분 (1 upper-limit,2 up,3 flat,4 lower-limit,5 down)
    pub sign: String,
    /// 전일대비
    #[serde(default)]
    pub change: String,
    /// 등락율 (pct, 2 decimals, signed)
    #[serde(default)]
    pub drate: String,
    /// 현재가
    pub price: String,
    /// 시가시간
    #[serde(default)]
    pub opentime: String,
    /// 시가
    #[serde(default)]
    pub open: String,
    /// 고가시간
    #[serde(default)]
    pub hightime: String,
    /// 고가
    #[serde(default)]
    pub high: String,
    /// 저가시간
    #[serde(default)]
    pub lowtime: String,
    /// 저가
    #[serde(default)]
    pub low: String,
    /// 체결구분 ('+' buy-initiated, '-' sell-initiated)
    #[serde(default)]
    pub cgubun: String,
    /// 체결량
    pub cvolume: String,
    /// 누적거래량
    pub volume: String,
    /// 누적거래대금
    #[serde(default)]
    pub value: String,
    /// 매도누적체결량
    #[serde(default)]
    pub mdvolume: String,
    /// 매도누적체결건수
    #[serde(default)]
    pub mdchecnt: String,
    /// 매수누적체결량
    #[serde(default)]
    pub msvolume: String,
    /// 매수누적체결건수
    #[serde(default)]
    pub mschecnt: String,
    /// 체결강도
    #[serde(default)]
    pub cpower: String,
    /// 가중평균가
    #[serde(default)]
    pub w_avrg: String,
    /// 매도호가
    #[serde(default)]
    pub offerho: String,
    /// 매수호가
    #[serde(default)]
    pub bidho: String,
    /// 장정보 (market status code, '00' in samples)
    #[serde(default)]
    pub status: String,
    /// 전일동시간대거래량
    #[serde(default)]
    pub jnilvolume: String,
    /// 단축코드
    pub shcode: String,
    /// 거래소명
    #[serde(default)]
    pub exchname: String,
}

impl TradeBody {
    const WHAT: &'static str = TRADE_WHAT;

    /// The fields the engine acts on, borrowed.
    pub fn fields(&self) -> TradeFields<'_> {
        TradeFields {
            shcode: Cow::Borrowed(&self.shcode),
            price: Cow::Borrowed(&self.price),
            chetime: Cow::Borrowed(&self.chetime),
            sign: Cow::Borrowed(&self.sign),
            change: Cow::Borrowed(&self.change),
            cgubun: Cow::Borrowed(&self.cgubun),
            cvolume: Cow::Borrowed(&self.cvolume),
            volume: Cow::Borrowed(&self.volume),
        }
    }

    /// `shcode`.
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        self.fields().ticker()
    }

    /// `price`: the trade price.
    pub fn price(&self) -> Result<Price, WireError> {
        self.fields().price()
    }

    /// `cvolume`: shares in this trade.
    pub fn cvolume(&self) -> Result<Qty, WireError> {
        self.fields().cvolume()
    }

    /// `volume`: the day's cumulative volume.
    pub fn volume(&self) -> Result<u64, WireError> {
        self.fields().volume()
    }

    /// `chetime` (HHMMSS).
    pub fn time(&self) -> Result<TimeOfDay, WireError> {
        self.fields().time()
    }

    pub fn sign(&self) -> Result<Sign, WireError> {
        self.fields().sign()
    }

    /// `change` with the direction of `sign` (LS sends it unsigned).
    pub fn signed_change(&self) -> Result<i64, WireError> {
        self.fields().signed_change()
    }

    /// `drate` in basis points: `"1.93"` → 193, `"-0.37"` → -37.
    pub fn drate_bp(&self) -> Result<i64, WireError> {
        field_fixed(Self::WHAT, "drate", &self.drate, 2)
    }

    pub fn open(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "open", &self.open)
    }

    pub fn high(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "high", &self.high)
    }

    pub fn low(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "low", &self.low)
    }

    /// `offerho`: best ask.
    pub fn ask(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "offerho", &self.offerho)
    }

    /// `bidho`: best bid.
    pub fn bid(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "bidho", &self.bidho)
    }

    /// `value`: cumulative traded value (millions of won in samples; UNCONFIRMED unit).
    pub fn value(&self) -> Result<i64, WireError> {
        field_i64(Self::WHAT, "value", &self.value)
    }

    /// `cgubun`: `+` buyer-initiated, `-` seller-initiated.
    pub fn aggressor(&self) -> Result<Side, WireError> {
        self.fields().aggressor()
    }
}

const TRADE_WHAT: &str = "S3_/K3_ body";

/// The fields of an S3_/K3_ body that make a tick, borrowed from the frame's text where
/// it has no escapes: the hot path decodes these and skips the other 19 without
/// allocating. Required as in [`TradeBody`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TradeFields<'a> {
    #[serde(borrow)]
    pub shcode: Cow<'a, str>,
    #[serde(borrow)]
    pub price: Cow<'a, str>,
    #[serde(borrow)]
    pub chetime: Cow<'a, str>,
    #[serde(borrow)]
    pub sign: Cow<'a, str>,
    #[serde(borrow, default)]
    pub change: Cow<'a, str>,
    #[serde(borrow, default)]
    pub cgubun: Cow<'a, str>,
    #[serde(borrow)]
    pub cvolume: Cow<'a, str>,
    #[serde(borrow)]
    pub volume: Cow<'a, str>,
}

impl TradeFields<'_> {
    const WHAT: &'static str = TRADE_WHAT;

    /// `shcode`.
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "shcode", &self.shcode)
    }

    /// `price`: the trade price.
    pub fn price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "price", &self.price)
    }

    /// `cvolume`: shares in this trade.
    pub fn cvolume(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "cvolume", &self.cvolume)
    }

    /// `volume`: the day's cumulative volume.
    pub fn volume(&self) -> Result<u64, WireError> {
        field_cum_volume(Self::WHAT, "volume", &self.volume)
    }

    /// `chetime` (HHMMSS).
    pub fn time(&self) -> Result<TimeOfDay, WireError> {
        time_field(Self::WHAT, "chetime", &self.chetime)
    }

    pub fn sign(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "sign", &self.sign)
    }

    /// `change` with the direction of `sign` (LS sends it unsigned).
    pub fn signed_change(&self) -> Result<i64, WireError> {
        let magnitude = field_i64(Self::WHAT, "change", &self.change)?;
        self.sign()?.apply_field(Self::WHAT, "change", magnitude)
    }

    /// The previous close (기준가): `price` less the signed `change`, refused when that
    /// does not fit or is not a price KRX can print (a hostile frame must not overflow the
    /// engine's arithmetic). 0 is kept: a replayed tape writes it for "not known", and
    /// every consumer reads a previous close of 0 as no reference.
    pub fn prev_close(&self) -> Result<Price, WireError> {
        self.prev_close_from(self.price()?)
    }

    fn prev_close_from(&self, price: Price) -> Result<Price, WireError> {
        let change = self.signed_change()?;
        price
            .won()
            .checked_sub(change)
            .and_then(|p| Price::new_or_zero(p).ok())
            .ok_or_else(|| {
                WireError::bad_value(
                    Self::WHAT,
                    "change",
                    &self.change,
                    "a change that leaves a previous close KRX can print",
                )
            })
    }

    /// `cgubun`: `+` buyer-initiated, `-` seller-initiated.
    pub fn aggressor(&self) -> Result<Side, WireError> {
        match self.cgubun.trim_ascii() {
            "+" => Ok(Side::Buy),
            "-" => Ok(Side::Sell),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "cgubun",
                &self.cgubun,
                "\"+\" or \"-\"",
            )),
        }
    }

    /// The trade as the engine's [`Tick`], read from the socket at `received_at`. Its
    /// `seq` is 0: the session numbers the ticks it routes.
    pub fn to_tick(&self, received_at: Instant) -> Result<Tick, WireError> {
        let ticker = self.ticker()?;
        let price = self.price()?;
        Ok(Tick {
            ticker,
            price,
            qty: self.cvolume()?,
            cum_volume: self.volume()?,
            prev_close: self.prev_close_from(price)?,
            aggressor: self.aggressor()?,
            exchange_time: self.time()?,
            received_at,
            seq: 0,
        })
    }
}

/// AFR condition-search alert body (§5.7): a stock entered, re-entered or left a
/// registered condition. Sample: `{"gsJobFlag":"O","gsVolume":"3432360","gsPrice":"2435",
/// "gsSign":"2","gshname":"HB테크놀러지","gsChange":"45","gsChgRate":"1.88","gsCode":"078150"}`.
/// Required: `gsCode`, `gsJobFlag`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionAlertBody {
    /// 종목코드
    #[serde(rename = "gsCode")]
    pub gs_code: String,
    /// 종목명
    #[serde(default)]
    pub gshname: String,
    /// 현재가
    #[serde(rename = "gsPrice", default)]
    pub gs_price: String,
    /// 전일대비구분
    #[serde(rename = "gsSign", default)]
    pub gs_sign: String,
    /// 전일대비
    #[serde(rename = "gsChange", default)]
    pub gs_change: String,
    /// 등락율
    #[serde(rename = "gsChgRate", default)]
    pub gs_chg_rate: String,
    /// 거래량
    #[serde(rename = "gsVolume", default)]
    pub gs_volume: String,
    /// 종목상태 (N enter, R re-enter, O exit)
    #[serde(rename = "gsJobFlag")]
    pub gs_job_flag: String,
}

/// `gsJobFlag`: what happened to the stock in the condition.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum JobFlag {
    /// `N`: newly matches.
    Enter,
    /// `R`: matches again.
    Reenter,
    /// `O`: no longer matches.
    Exit,
}

impl JobFlag {
    pub fn code(self) -> &'static str {
        match self {
            JobFlag::Enter => "N",
            JobFlag::Reenter => "R",
            JobFlag::Exit => "O",
        }
    }

    pub fn from_code(code: &str) -> Option<JobFlag> {
        match code.trim_ascii() {
            "N" => Some(JobFlag::Enter),
            "R" => Some(JobFlag::Reenter),
            "O" => Some(JobFlag::Exit),
            _ => None,
        }
    }
}

impl ConditionAlertBody {
    const WHAT: &'static str = "AFR body";

    /// `gsCode` (nine characters wide; a six-digit code, `A` prefix tolerated).
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "gsCode", &self.gs_code)
    }

    /// `gsJobFlag`.
    pub fn job(&self) -> Result<JobFlag, WireError> {
        JobFlag::from_code(&self.gs_job_flag).ok_or_else(|| {
            WireError::bad_value(Self::WHAT, "gsJobFlag", &self.gs_job_flag, "N, R or O")
        })
    }

    /// `gshname`, trimmed.
    pub fn name(&self) -> &str {
        self.gshname.trim()
    }

    pub fn price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "gsPrice", &self.gs_price)
    }

    pub fn sign(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "gsSign", &self.gs_sign)
    }

    /// `gsChange` with the direction of `gsSign`.
    pub fn signed_change(&self) -> Result<i64, WireError> {
        let magnitude = field_i64(Self::WHAT, "gsChange", &self.gs_change)?;
        self.sign()?.apply_field(Self::WHAT, "gsChange", magnitude)
    }

    /// `gsChgRate` in basis points: `"1.88"` → 188.
    pub fn chg_rate_bp(&self) -> Result<i64, WireError> {
        field_fixed(Self::WHAT, "gsChgRate", &self.gs_chg_rate, 2)
    }

    pub fn volume(&self) -> Result<u64, WireError> {
        field_cum_volume(Self::WHAT, "gsVolume", &self.gs_volume)
    }
}

/// SC0 order-accepted body (§5.8 table, every field; plus `comid`, present in the real
/// sample). Pushed when a new, modify or cancel order is accepted (`trcode` says which).
/// Required: `ordno`, `shtcode`, `ordqty`, `ordprice`, `ordgb`, `trcode`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAcceptedBody {
    /// 라인일련번호
    #[serde(default)]
    pub lineseq: String,
    /// Push키
    #[serde(default)]
    pub accno: String,
    /// 조작자ID
    #[serde(default)]
    pub user: String,
    /// 헤더길이
    #[serde(default)]
    pub len: String,
    /// 헤더구분
    #[serde(default)]
    pub gubun: String,
    /// 압축구분
    #[serde(default)]
    pub compress: String,
    /// 암호구분
    #[serde(default)]
    pub encrypt: String,
    /// 공통시작지점
    #[serde(default)]
    pub offset: String,
    /// TRCODE (SONAT000 new / SONAT001 modify / SONAT002 cancel / SONAS100 fill-confirm)
    pub trcode: String,
    /// 이용사번호
    #[serde(default)]
    pub compid: String,
    /// 사용자ID
    #[serde(default)]
    pub userid: String,
    /// 접속매체
    #[serde(default)]
    pub media: String,
    /// I/F일련번호
    #[serde(default)]
    pub ifid: String,
    /// 전문일련번호
    #[serde(default)]
    pub seq: String,
    /// TR추적ID
    #[serde(default)]
    pub trid: String,
    /// 공인IP
    #[serde(default)]
    pub pubip: String,
    /// 사설IP
    #[serde(default)]
    pub prvip: String,
    /// 처리지점번호
    #[serde(default)]
    pub pcbpno: String,
    /// 지점번호
    #[serde(default)]
    pub bpno: String,
    /// 단말번호
    #[serde(default)]
    pub termno: String,
    /// 언어구분
    #[serde(default)]
    pub lang: String,
    /// AP처리시간 (HMMSSmmm (no leading zero in sample))
    #[serde(default)]
    pub proctm: String,
    /// 메세지코드
    #[serde(default)]
    pub msgcode: String,
    /// 메세지출력구분
    #[serde(default)]
    pub outgu: String,
    /// 압축요청구분
    #[serde(default)]
    pub compreq: String,
    /// 기능키
    #[serde(default)]
    pub funckey: String,
    /// 요청레코드개수
    #[serde(default)]
    pub reqcnt: String,
    /// 예비영역
    #[serde(default)]
    pub filler: String,
    /// 연속구분
    #[serde(default)]
    pub cont: String,
    /// 연속키값
    #[serde(default)]
    pub contkey: String,
    /// 가변시스템길이
    #[serde(default)]
    pub varlen: String,
    /// 가변해더길이
    #[serde(default)]
    pub varhdlen: String,
    /// 가변메시지길이
    #[serde(default)]
    pub varmsglen: String,
    /// 조회발원지
    #[serde(default)]
    pub trsrc: String,
    /// I/F이벤트ID
    #[serde(default)]
    pub eventid: String,
    /// I/F정보
    #[serde(default)]
    pub ifinfo: String,
    /// 예비영역
    #[serde(default)]
    pub filler1: String,
    /// 주문체결구분 (01 order,02 modify,03 cancel,11 fill,12 modify-confirm,13 cancel-confirm,14 reject,A1 accepting,AC accepted)
    #[serde(default)]
    pub ordchegb: String,
    /// 시장구분 (10 KOSPI, 20 KOSDAQ, 23 KONEX (others: 00,11,19,30,61,62))
    #[serde(default)]
    pub marketgb: String,
    /// 주문구분 (01 cash sell, 02 cash buy, 03 credit sell, 04 credit buy, ... (long code list in doc))
    pub ordgb: String,
    /// 원주문번호 (original order no (0 for new))
    #[serde(default)]
    pub orgordno: String,
    /// 계좌번호
    #[serde(default)]
    pub accno1: String,
    /// 계좌번호
    #[serde(default)]
    pub accno2: String,
    /// 비밀번호
    #[serde(default)]
    pub passwd: String,
    /// 종목번호 (12-char ISIN)
    #[serde(default)]
    pub expcode: String,
    /// 단축종목번호 (A+6-digit (stock) / J+code (ELW))
    pub shtcode: String,
    /// 종목명
    #[serde(default)]
    pub hname: String,
    /// 주문수량
    pub ordqty: String,
    /// 주문가격
    pub ordprice: String,
    /// 주문조건 (order condition 0 none,1 IOC,2 FOK)
    #[serde(default)]
    pub hogagb: String,
    /// 호가유형코드 (price type 00 limit,03 market,05,06,07,...)
    #[serde(default)]
    pub etfhogagb: String,
    /// 프로그램호가구분
    #[serde(default)]
    pub pgmtype: String,
    /// 공매도호가구분
    #[serde(default)]
    pub gmhogagb: String,
    /// 공매도가능여부
    #[serde(default)]
    pub gmhogayn: String,
    /// 신용구분
    #[serde(default)]
    pub singb: String,
    /// 대출일
    #[serde(default)]
    pub loandt: String,
    /// 반대매매주문구분
    #[serde(default)]
    pub cvrgordtp: String,
    /// 전략코드
    #[serde(default)]
    pub strtgcode: String,
    /// 그룹ID
    #[serde(default)]
    pub groupid: String,
    /// 주문회차
    #[serde(default)]
    pub ordseqno: String,
    /// 포트폴리오번호
    #[serde(default)]
    pub prtno: String,
    /// 바스켓번호
    #[serde(default)]
    pub basketno: String,
    /// 트렌치번호
    #[serde(default)]
    pub trchno: String,
    /// 아아템번호
    #[serde(default)]
    pub itemno: String,
    /// 차입구분
    #[serde(default)]
    pub brwmgmyn: String,
    /// 회원사번호
    #[serde(default)]
    pub mbrno: String,
    /// 처리구분
    #[serde(default)]
    pub procgb: String,
    /// 관리지점번호
    #[serde(default)]
    pub admbrchno: String,
    /// 선물계좌번호
    #[serde(default)]
    pub futaccno: String,
    /// 선물상품구분
    #[serde(default)]
    pub futmarketgb: String,
    /// 통신매체구분
    #[serde(default)]
    pub tongsingb: String,
    /// 유동성공급자구분
    #[serde(default)]
    pub lpgb: String,
    /// DUMMY
    #[serde(default)]
    pub dummy: String,
    /// 주문번호 (order number (string))
    pub ordno: String,
    /// 주문시각 (HHMMSSmmm)
    #[serde(default)]
    pub ordtm: String,
    /// 모주문번호
    #[serde(default)]
    pub prntordno: String,
    /// 관리사원번호
    #[serde(default)]
    pub mgempno: String,
    /// 원주문미체결수량
    #[serde(default)]
    pub orgordundrqty: String,
    /// 원주문정정수량
    #[serde(default)]
    pub orgordmdfyqty: String,
    /// 원주문취소수량
    #[serde(default)]
    pub ordordcancelqty: String,
    /// 비회원사송신번호
    #[serde(default)]
    pub nmcpysndno: String,
    /// 주문금액
    #[serde(default)]
    pub ordamt: String,
    /// 매매구분 (1 sell, 2 buy)
    #[serde(default)]
    pub bnstp: String,
    /// 예비주문번호
    #[serde(default)]
    pub spareordno: String,
    /// 반대매매일련번호
    #[serde(default)]
    pub cvrgseqno: String,
    /// 예약주문번호
    #[serde(default)]
    pub rsvordno: String,
    /// 복수주문일련번호
    #[serde(default)]
    pub mtordseqno: String,
    /// 예비주문수량
    #[serde(default)]
    pub spareordqty: String,
    /// 주문사원번호
    #[serde(default)]
    pub orduserid: String,
    /// 실물주문수량
    #[serde(default)]
    pub spotordqty: String,
    /// 재사용주문수량
    #[serde(default)]
    pub ordruseqty: String,
    /// 현금주문금액
    #[serde(default)]
    pub mnyordamt: String,
    /// 주문대용금액
    #[serde(default)]
    pub ordsubstamt: String,
    /// 재사용주문금액
    #[serde(default)]
    pub ruseordamt: String,
    /// 수수료주문금액
    #[serde(default)]
    pub ordcmsnamt: String,
    /// 사용신용담보재사용금
    #[serde(default)]
    pub crdtuseamt: String,
    /// 잔고수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub secbalqty: String,
    /// 실물가능수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub spotordableqty: String,
    /// 재사용가능수량(매도) (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub ordableruseqty: String,
    /// 변동수량
    #[serde(default)]
    pub flctqty: String,
    /// 잔고수량(D2) (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub secbalqtyd2: String,
    /// 매도주문가능수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub sellableqty: String,
    /// 미체결매도주문수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub unercsellordqty: String,
    /// 평균매입가 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub avrpchsprc: String,
    /// 매입금액 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub pchsamt: String,
    /// 예수금
    #[serde(default)]
    pub deposit: String,
    /// 대용금
    #[serde(default)]
    pub substamt: String,
    /// 위탁증거금현금
    #[serde(default)]
    pub csgnmnymgn: String,
    /// 위탁증거금대용
    #[serde(default)]
    pub csgnsubstmgn: String,
    /// 신용담보재사용금
    #[serde(default)]
    pub crdtpldgruseamt: String,
    /// 주문가능현금
    #[serde(default)]
    pub ordablemny: String,
    /// 주문가능대용
    #[serde(default)]
    pub ordablesubstamt: String,
    /// 재사용가능금액
    #[serde(default)]
    pub ruseableamt: String,
    /// COM ID (in the real sample, not in the doc table)
    #[serde(default)]
    pub comid: String,
}

/// SC0 `trcode`: which order the acceptance is for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AcceptedKind {
    /// `SONAT000`.
    New,
    /// `SONAT001`.
    Modify,
    /// `SONAT002`.
    Cancel,
    /// `SONAS100`: fill confirmation.
    FillConfirm,
}

impl AcceptedKind {
    pub fn code(self) -> &'static str {
        match self {
            AcceptedKind::New => "SONAT000",
            AcceptedKind::Modify => "SONAT001",
            AcceptedKind::Cancel => "SONAT002",
            AcceptedKind::FillConfirm => "SONAS100",
        }
    }

    pub fn from_code(code: &str) -> Option<AcceptedKind> {
        match code.trim_ascii() {
            "SONAT000" => Some(AcceptedKind::New),
            "SONAT001" => Some(AcceptedKind::Modify),
            "SONAT002" => Some(AcceptedKind::Cancel),
            "SONAS100" => Some(AcceptedKind::FillConfirm),
            _ => None,
        }
    }
}

impl OrderAcceptedBody {
    const WHAT: &'static str = "SC0 body";

    pub fn kind(&self) -> Result<AcceptedKind, WireError> {
        AcceptedKind::from_code(&self.trcode).ok_or_else(|| {
            WireError::bad_value(
                Self::WHAT,
                "trcode",
                &self.trcode,
                "SONAT000/1/2 or SONAS100",
            )
        })
    }

    /// `ordno`: the broker's order number.
    pub fn order_no(&self) -> Result<i64, WireError> {
        field_i64(Self::WHAT, "ordno", &self.ordno)
    }

    /// `orgordno`: the original order of a modify/cancel (0 for a new order).
    pub fn org_order_no(&self) -> Result<i64, WireError> {
        int_or_zero(Self::WHAT, "orgordno", &self.orgordno)
    }

    /// `shtcode` (`A005930`).
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "shtcode", &self.shtcode)
    }

    /// `bnstp` (1 sell, 2 buy), or `ordgb` (01/03 sell, 02/04 buy) when `bnstp` is blank.
    pub fn side(&self) -> Result<Side, WireError> {
        if let Some(side) = Side::from_ls_code(self.bnstp.trim_ascii()) {
            return Ok(side);
        }
        match self.ordgb.trim_ascii() {
            "01" | "03" => Ok(Side::Sell),
            "02" | "04" => Ok(Side::Buy),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "ordgb",
                &self.ordgb,
                "bnstp 1/2 or ordgb 01..04",
            )),
        }
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "ordqty", &self.ordqty)
    }

    /// `ordprice` (0 for a market order).
    pub fn price(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "ordprice", &self.ordprice)
    }

    /// `ordtm` (HHMMSSmmm), to the second.
    pub fn time(&self) -> Result<TimeOfDay, WireError> {
        time_field(Self::WHAT, "ordtm", &self.ordtm)
    }
}

/// SC1 (filled), SC2 (modified), SC3 (cancelled), SC4 (rejected) body: one layout, the
/// §5.9 table's 130 fields with its mixed-case keys, told apart by `ordxctptncode`
/// (11/12/13/14). SC4's layout is UNCONFIRMED; this reads it as SC1's, as recommended.
/// Required: `ordno`, `shtnIsuno`, `execqty`, `execprc`, `ordxctptncode`, `unercqty`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventBody {
    /// 그룹Id
    #[serde(rename = "grpId", default)]
    pub grp_id: String,
    /// 트렌치번호
    #[serde(default)]
    pub trchno: String,
    /// 거래세징수구분
    #[serde(rename = "trtzxLevytp", default)]
    pub trtzx_levytp: String,
    /// 주문처리유형코드
    #[serde(default)]
    pub ordtrxptncode: String,
    /// 계좌명
    #[serde(default)]
    pub acntnm: String,
    /// TRCODE (SONAT000 new / SONAT001 modify / SONAT002 cancel / SONAS100 fill-confirm)
    #[serde(default)]
    pub trcode: String,
    /// 사용자ID
    #[serde(default)]
    pub userid: String,
    /// 집계지점번호
    #[serde(default)]
    pub agrgbrnno: String,
    /// 등록시장코드
    #[serde(default)]
    pub regmktcode: String,
    /// 헤더길이
    #[serde(default)]
    pub len: String,
    /// 운용지시번호
    #[serde(default)]
    pub opdrtnno: String,
    /// 원주문정정수량
    #[serde(default)]
    pub orgordmdfyqty: String,
    /// 평균매입가 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub avrpchsprc: String,
    /// 체결시각 (HHMMSSmmm)
    #[serde(default)]
    pub exectime: String,
    /// 연속구분
    #[serde(default)]
    pub cont: String,
    /// 현금증거금률
    #[serde(default)]
    pub mnymgnrat: String,
    /// 정정확인수량
    #[serde(default)]
    pub mdfycnfqty: String,
    /// 원주문취소수량
    #[serde(default)]
    pub orgordcancqty: String,
    /// 압축구분
    #[serde(default)]
    pub compress: String,
    /// 체결가격 (fill price)
    pub execprc: String,
    /// 정정확인가격
    #[serde(default)]
    pub mdfycnfprc: String,
    /// 미체결매도주문수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub unercsellordqty: String,
    /// 수수료체결금액
    #[serde(default)]
    pub cmsnamtexecamt: String,
    /// 재사용가능금액
    #[serde(default)]
    pub ruseableamt: String,
    /// 헤더구분
    #[serde(default)]
    pub gubun: String,
    /// TR추적ID
    #[serde(default)]
    pub trid: String,
    /// 변동수량
    #[serde(default)]
    pub flctqty: String,
    /// 체결번호
    #[serde(default)]
    pub execno: String,
    /// 유동성공급자구분
    #[serde(default)]
    pub lptp: String,
    /// 가변메시지길이
    #[serde(default)]
    pub varmsglen: String,
    /// 주문번호 (order number (string))
    pub ordno: String,
    /// 선물시장구분
    #[serde(default)]
    pub futsmkttp: String,
    /// 신용체결금액
    #[serde(default)]
    pub crdtexecamt: String,
    /// 예수금
    #[serde(default)]
    pub deposit: String,
    /// 외국인고유번호
    #[serde(default)]
    pub frgrunqno: String,
    /// 금일재사용체결금액
    #[serde(default)]
    pub crdayruseexecval: String,
    /// 조회발원지
    #[serde(default)]
    pub trsrc: String,
    /// 주문계좌번호
    #[serde(default)]
    pub ordacntno: String,
    /// 요청레코드개수
    #[serde(default)]
    pub reqcnt: String,
    /// 단축종목번호 (A+6-digit)
    #[serde(rename = "shtnIsuno")]
    pub shtn_isuno: String,
    /// 계좌번호
    #[serde(default)]
    pub accno1: String,
    /// 전략코드
    #[serde(default)]
    pub strtgcode: String,
    /// 주문회차
    #[serde(default)]
    pub ordseqno: String,
    /// 종목명
    #[serde(rename = "Isunm", default)]
    pub isunm: String,
    /// 주문가능대용
    #[serde(default)]
    pub ordablesubstamt: String,
    /// 암호구분
    #[serde(default)]
    pub encrypt: String,
    /// 종목번호 (ISIN)
    #[serde(rename = "Isuno", default)]
    pub isuno: String,
    /// 계좌번호
    #[serde(default)]
    pub accno2: String,
    /// 연속키값
    #[serde(default)]
    pub contkey: String,
    /// 대출일
    #[serde(rename = "Loandt", default)]
    pub loandt: String,
    /// 전문일련번호
    #[serde(default)]
    pub seq: String,
    /// 라인일련번호
    #[serde(default)]
    pub lineseq: String,
    /// 가변시스템길이
    #[serde(default)]
    pub varlen: String,
    /// 주문자Id
    #[serde(rename = "orduserId", default)]
    pub orduser_id: String,
    /// 관리지점번호
    #[serde(default)]
    pub mgmtbrnno: String,
    /// 거부수량
    #[serde(default)]
    pub rjtqty: String,
    /// 호가유형코드 (00 limit,03 market,...)
    #[serde(default)]
    pub ordprcptncode: String,
    /// 표준종목번호 (ISIN)
    #[serde(rename = "stdIsuno", default)]
    pub std_isuno: String,
    /// 매입금액 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub pchsant: String,
    /// 예비영역
    #[serde(default)]
    pub filler: String,
    /// 잔고수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub secbalqty: String,
    /// 주문체결유형코드 (01 order,02 modify,03 cancel,11 fill,12 modify-confirm,13 cancel-confirm,14 reject)
    pub ordxctptncode: String,
    /// 취소확인수량
    #[serde(default)]
    pub canccnfqty: String,
    /// 주문가능현금
    #[serde(default)]
    pub ordablemny: String,
    /// 공인IP
    #[serde(default)]
    pub pubip: String,
    /// 사설IP
    #[serde(default)]
    pub prvip: String,
    /// 기능키
    #[serde(default)]
    pub funckey: String,
    /// 계좌번호
    #[serde(default)]
    pub accno: String,
    /// 압축요청구분
    #[serde(default)]
    pub compreq: String,
    /// 신용담보재사용금
    #[serde(default)]
    pub crdtpldgruseamt: String,
    /// 주문금액
    #[serde(default)]
    pub ordamt: String,
    /// 단말번호
    #[serde(default)]
    pub termno: String,
    /// 신용담보체결금액
    #[serde(default)]
    pub crdtpldgexecamt: String,
    /// 주문조건
    #[serde(default)]
    pub ordcndi: String,
    /// 잔여대출금액 (doc: not provided by real server (zero/blank))
    #[serde(rename = "rmndLoanamt", default)]
    pub rmnd_loanamt: String,
    /// 지점번호
    #[serde(default)]
    pub bpno: String,
    /// 대용금
    #[serde(default)]
    pub substamt: String,
    /// 관리사원번호
    #[serde(default)]
    pub mgempno: String,
    /// 위탁증거금대용
    #[serde(default)]
    pub csgnsubstmgn: String,
    /// 공통시작지점
    #[serde(default)]
    pub offset: String,
    /// 거래소수신체결시각
    #[serde(default)]
    pub rcptexectime: String,
    /// 매도주문가능수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub sellableqty: String,
    /// 실물체결수량
    #[serde(default)]
    pub spotexecqty: String,
    /// 가변해더길이
    #[serde(default)]
    pub varhdlen: String,
    /// 대용증거금률
    #[serde(default)]
    pub substmgnrat: String,
    /// 주문평균체결가격
    #[serde(default)]
    pub ordavrexecprc: String,
    /// 아이템번호
    #[serde(default)]
    pub itemno: String,
    /// 신용거래코드
    #[serde(default)]
    pub mgntrncode: String,
    /// 비저축체결수량
    #[serde(default)]
    pub nsavtrdqty: String,
    /// I/F정보
    #[serde(default)]
    pub ifinfo: String,
    /// 재사용가능수량(매도) (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub ordableruseqty: String,
    /// 포트폴리오번호
    #[serde(default)]
    pub ptflno: String,
    /// 잔고수량(d2) (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub secbalqtyd2: String,
    /// 차입관리여부
    #[serde(rename = "brwmgmtYn", default)]
    pub brwmgmt_yn: String,
    /// I/F이벤트ID
    #[serde(default)]
    pub eventid: String,
    /// 위탁증거금현금
    #[serde(default)]
    pub csgnmnymgn: String,
    /// 처리지점번호
    #[serde(default)]
    pub pcbpno: String,
    /// 원주문번호 (original order no (0 for new))
    #[serde(default)]
    pub orgordno: String,
    /// I/F일련번호
    #[serde(default)]
    pub ifid: String,
    /// 접속매체
    #[serde(default)]
    pub media: String,
    /// 복수주문일련번호
    #[serde(default)]
    pub mtiordseqno: String,
    /// 예비영역
    #[serde(default)]
    pub filler1: String,
    /// 원주문미체결수량
    #[serde(default)]
    pub orgordunercqty: String,
    /// 회원/비회원사번호
    #[serde(default)]
    pub mbrnmbrno: String,
    /// 선물연계지점번호
    #[serde(rename = "futsLnkbrnno", default)]
    pub futs_lnkbrnno: String,
    /// 통신매체코드
    #[serde(default)]
    pub commdacode: String,
    /// 공매도체결수량
    #[serde(default)]
    pub stslexecqty: String,
    /// AP처리시간 (HMMSSmmm (no leading zero in sample))
    #[serde(default)]
    pub proctm: String,
    /// 전표준종목번호
    #[serde(rename = "bfstdIsuno", default)]
    pub bfstd_isuno: String,
    /// 선물연계계좌번호
    #[serde(rename = "futsLnkacntno", default)]
    pub futs_lnkacntno: String,
    /// 언어구분
    #[serde(default)]
    pub lang: String,
    /// 미체결수량(주문) (remaining unfilled qty)
    pub unercqty: String,
    /// 체결수량 (fill qty (this event))
    pub execqty: String,
    /// 수수료합산코드
    #[serde(default)]
    pub adduptp: String,
    /// 바스켓번호
    #[serde(default)]
    pub bskno: String,
    /// 실물가능수량 (doc: not provided by real server (zero/blank))
    #[serde(default)]
    pub spotordableqty: String,
    /// 대용체결금액
    #[serde(default)]
    pub ubstexecamt: String,
    /// 반대매매주문구분
    #[serde(default)]
    pub cvrgordtp: String,
    /// 주문수량
    #[serde(default)]
    pub ordqty: String,
    /// 현금체결금액
    #[serde(default)]
    pub mnyexecamt: String,
    /// 메세지출력구분
    #[serde(default)]
    pub outgu: String,
    /// 메세지코드
    #[serde(default)]
    pub msgcode: String,
    /// 주문거래유형코드
    #[serde(default)]
    pub ordtrdptncode: String,
    /// 주문시장코드
    #[serde(default)]
    pub ordmktcode: String,
    /// 주문유형코드 (00 n/a,01 cash sell,02 cash buy,03 credit sell,04 credit buy)
    #[serde(default)]
    pub ordptncode: String,
    /// 전일재사용체결금액
    #[serde(default)]
    pub prdayruseexecval: String,
    /// COM ID
    #[serde(default)]
    pub comid: String,
    /// 매매구분 (1 sell, 2 buy)
    #[serde(default)]
    pub bnstp: String,
    /// 조작자ID
    #[serde(default)]
    pub user: String,
    /// 주문가격
    #[serde(default)]
    pub ordprc: String,
}

/// `ordxctptncode` (주문체결유형코드).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderEventKind {
    /// `01`.
    Order,
    /// `02`.
    Modify,
    /// `03`.
    Cancel,
    /// `11`: a fill (SC1).
    Fill,
    /// `12`: modify confirmed (SC2).
    ModifyConfirmed,
    /// `13`: cancel confirmed (SC3).
    CancelConfirmed,
    /// `14`: rejected (SC4).
    Rejected,
}

impl OrderEventKind {
    pub fn code(self) -> &'static str {
        match self {
            OrderEventKind::Order => "01",
            OrderEventKind::Modify => "02",
            OrderEventKind::Cancel => "03",
            OrderEventKind::Fill => "11",
            OrderEventKind::ModifyConfirmed => "12",
            OrderEventKind::CancelConfirmed => "13",
            OrderEventKind::Rejected => "14",
        }
    }

    pub fn from_code(code: &str) -> Option<OrderEventKind> {
        match code.trim_ascii() {
            "01" => Some(OrderEventKind::Order),
            "02" => Some(OrderEventKind::Modify),
            "03" => Some(OrderEventKind::Cancel),
            "11" => Some(OrderEventKind::Fill),
            "12" => Some(OrderEventKind::ModifyConfirmed),
            "13" => Some(OrderEventKind::CancelConfirmed),
            "14" => Some(OrderEventKind::Rejected),
            _ => None,
        }
    }
}

impl OrderEventBody {
    const WHAT: &'static str = "SC1..SC4 body";

    /// `ordxctptncode`.
    pub fn kind(&self) -> Result<OrderEventKind, WireError> {
        OrderEventKind::from_code(&self.ordxctptncode).ok_or_else(|| {
            WireError::bad_value(
                Self::WHAT,
                "ordxctptncode",
                &self.ordxctptncode,
                "01, 02, 03, 11, 12, 13 or 14",
            )
        })
    }

    /// `ordno`: this event's order number (the new number for a modify or cancel).
    pub fn order_no(&self) -> Result<i64, WireError> {
        field_i64(Self::WHAT, "ordno", &self.ordno)
    }

    /// `orgordno`: the original order (0 for a new order).
    pub fn org_order_no(&self) -> Result<i64, WireError> {
        int_or_zero(Self::WHAT, "orgordno", &self.orgordno)
    }

    /// `shtnIsuno` (`A005930`).
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "shtnIsuno", &self.shtn_isuno)
    }

    /// `bnstp` (1 sell, 2 buy), or `ordptncode` (01/03 sell, 02/04 buy) when blank.
    pub fn side(&self) -> Result<Side, WireError> {
        if let Some(side) = Side::from_ls_code(self.bnstp.trim_ascii()) {
            return Ok(side);
        }
        match self.ordptncode.trim_ascii() {
            "01" | "03" => Ok(Side::Sell),
            "02" | "04" => Ok(Side::Buy),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "ordptncode",
                &self.ordptncode,
                "bnstp 1/2 or ordptncode 01..04",
            )),
        }
    }

    /// `execqty`: shares filled by this event.
    pub fn exec_qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "execqty", &self.execqty)
    }

    /// `execprc`: fill price (0 on non-fill events).
    pub fn exec_price(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "execprc", &self.execprc)
    }

    /// `unercqty`: shares of the order still unfilled.
    pub fn unfilled_qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "unercqty", &self.unercqty)
    }

    /// `ordqty`.
    pub fn order_qty(&self) -> Result<Qty, WireError> {
        qty_or_zero(Self::WHAT, "ordqty", &self.ordqty)
    }

    /// `ordprc`.
    pub fn order_price(&self) -> Result<Price, WireError> {
        price_or_zero(Self::WHAT, "ordprc", &self.ordprc)
    }

    /// `ordavrexecprc`: the order's average fill price so far.
    pub fn avg_exec_price(&self) -> Result<Price, WireError> {
        price_or_zero(Self::WHAT, "ordavrexecprc", &self.ordavrexecprc)
    }

    /// `execno`: the fill number.
    pub fn exec_no(&self) -> Result<i64, WireError> {
        int_or_zero(Self::WHAT, "execno", &self.execno)
    }

    /// `mdfycnfqty` (SC2).
    pub fn modified_qty(&self) -> Result<Qty, WireError> {
        qty_or_zero(Self::WHAT, "mdfycnfqty", &self.mdfycnfqty)
    }

    /// `mdfycnfprc` (SC2).
    pub fn modified_price(&self) -> Result<Price, WireError> {
        price_or_zero(Self::WHAT, "mdfycnfprc", &self.mdfycnfprc)
    }

    /// `canccnfqty` (SC3).
    pub fn cancelled_qty(&self) -> Result<Qty, WireError> {
        qty_or_zero(Self::WHAT, "canccnfqty", &self.canccnfqty)
    }

    /// `rjtqty` (SC4).
    pub fn rejected_qty(&self) -> Result<Qty, WireError> {
        qty_or_zero(Self::WHAT, "rjtqty", &self.rjtqty)
    }

    /// `exectime` (HHMMSSmmm), to the second.
    pub fn exec_time(&self) -> Result<TimeOfDay, WireError> {
        time_field(Self::WHAT, "exectime", &self.exectime)
    }

    /// `exectime` in milliseconds since midnight, for latency figures.
    pub fn exec_time_ms(&self) -> Result<u32, WireError> {
        millis_field(Self::WHAT, "exectime", &self.exectime)
    }
}

fn ticker_field(what: &str, field: &'static str, value: &str) -> Result<Ticker, WireError> {
    Ticker::parse_isu_no(value.trim_ascii()).map_err(|_| {
        WireError::bad_value(
            what,
            field,
            value,
            "a six-digit code, optionally A-prefixed",
        )
    })
}

/// For fields that are not required: blank text reads as 0.
fn int_or_zero(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    if value.trim_ascii().is_empty() {
        Ok(0)
    } else {
        field_i64(what, field, value)
    }
}

/// A price that is not required: blank text reads as 0.
fn price_or_zero(what: &str, field: &'static str, value: &str) -> Result<Price, WireError> {
    if value.trim_ascii().is_empty() {
        Ok(Price::ZERO)
    } else {
        field_price_or_zero(what, field, value)
    }
}

/// A quantity that is not required: blank text reads as 0.
fn qty_or_zero(what: &str, field: &'static str, value: &str) -> Result<Qty, WireError> {
    if value.trim_ascii().is_empty() {
        Ok(Qty::lit(0))
    } else {
        field_qty(what, field, value)
    }
}

/// Milliseconds since midnight from `HHMMSS`, `HHMMSSmmm`, or `HMMSSmmm` (SC0/SC1
/// `proctm` drops the leading zero: `"95636020"`).
pub fn parse_time_ms(value: &str) -> Option<u32> {
    let v = value.trim_ascii().as_bytes();
    if !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| s.iter().fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
    let (h, rest) = match v.len() {
        6 | 9 => (num(&v[..2]), &v[2..]),
        8 => (num(&v[..1]), &v[1..]),
        _ => return None,
    };
    let (m, s, ms) = (num(&rest[..2]), num(&rest[2..4]), num(&rest[4..]));
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

fn millis_field(what: &str, field: &'static str, value: &str) -> Result<u32, WireError> {
    parse_time_ms(value).ok_or_else(|| {
        WireError::bad_value(what, field, value, "a time HHMMSS, HHMMSSmmm or HMMSSmmm")
    })
}

fn time_field(what: &str, field: &'static str, value: &str) -> Result<TimeOfDay, WireError> {
    millis_field(what, field, value).map(|ms| TimeOfDay::from_secs(ms / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn keys<T: Serialize + Default>() -> Vec<String> {
        match serde_json::to_value(T::default()).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        }
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn trade_body_has_the_s3_table() {
        assert_eq!(
            keys::<TradeBody>(),
            sorted(&[
                "chetime",
                "sign",
                "change",
                "drate",
                "price",
                "opentime",
                "open",
                "hightime",
                "high",
                "lowtime",
                "low",
                "cgubun",
                "cvolume",
                "volume",
                "value",
                "mdvolume",
                "mdchecnt",
                "msvolume",
                "mschecnt",
                "cpower",
                "w_avrg",
                "offerho",
                "bidho",
                "status",
                "jnilvolume",
                "shcode",
                "exchname"
            ])
        );
    }

    #[test]
    fn alert_body_has_the_afr_table() {
        assert_eq!(
            keys::<ConditionAlertBody>(),
            sorted(&[
                "gsCode",
                "gshname",
                "gsPrice",
                "gsSign",
                "gsChange",
                "gsChgRate",
                "gsVolume",
                "gsJobFlag"
            ])
        );
    }

    #[test]
    fn sc0_body_has_the_table_and_comid() {
        let want = [
            "lineseq",
            "accno",
            "user",
            "len",
            "gubun",
            "compress",
            "encrypt",
            "offset",
            "trcode",
            "compid",
            "userid",
            "media",
            "ifid",
            "seq",
            "trid",
            "pubip",
            "prvip",
            "pcbpno",
            "bpno",
            "termno",
            "lang",
            "proctm",
            "msgcode",
            "outgu",
            "compreq",
            "funckey",
            "reqcnt",
            "filler",
            "cont",
            "contkey",
            "varlen",
            "varhdlen",
            "varmsglen",
            "trsrc",
            "eventid",
            "ifinfo",
            "filler1",
            "ordchegb",
            "marketgb",
            "ordgb",
            "orgordno",
            "accno1",
            "accno2",
            "passwd",
            "expcode",
            "shtcode",
            "hname",
            "ordqty",
            "ordprice",
            "hogagb",
            "etfhogagb",
            "pgmtype",
            "gmhogagb",
            "gmhogayn",
            "singb",
            "loandt",
            "cvrgordtp",
            "strtgcode",
            "groupid",
            "ordseqno",
            "prtno",
            "basketno",
            "trchno",
            "itemno",
            "brwmgmyn",
            "mbrno",
            "procgb",
            "admbrchno",
            "futaccno",
            "futmarketgb",
            "tongsingb",
            "lpgb",
            "dummy",
            "ordno",
            "ordtm",
            "prntordno",
            "mgempno",
            "orgordundrqty",
            "orgordmdfyqty",
            "ordordcancelqty",
            "nmcpysndno",
            "ordamt",
            "bnstp",
            "spareordno",
            "cvrgseqno",
            "rsvordno",
            "mtordseqno",
            "spareordqty",
            "orduserid",
            "spotordqty",
            "ordruseqty",
            "mnyordamt",
            "ordsubstamt",
            "ruseordamt",
            "ordcmsnamt",
            "crdtuseamt",
            "secbalqty",
            "spotordableqty",
            "ordableruseqty",
            "flctqty",
            "secbalqtyd2",
            "sellableqty",
            "unercsellordqty",
            "avrpchsprc",
            "pchsamt",
            "deposit",
            "substamt",
            "csgnmnymgn",
            "csgnsubstmgn",
            "crdtpldgruseamt",
            "ordablemny",
            "ordablesubstamt",
            "ruseableamt",
            "comid",
        ];
        assert_eq!(want.len(), 114, "113 table rows + comid");
        assert_eq!(keys::<OrderAcceptedBody>(), sorted(&want));
    }

    #[test]
    fn sc1_body_has_the_130_keys_spelled_exactly() {
        let want = [
            "grpId",
            "trchno",
            "trtzxLevytp",
            "ordtrxptncode",
            "acntnm",
            "trcode",
            "userid",
            "agrgbrnno",
            "regmktcode",
            "len",
            "opdrtnno",
            "orgordmdfyqty",
            "avrpchsprc",
            "exectime",
            "cont",
            "mnymgnrat",
            "mdfycnfqty",
            "orgordcancqty",
            "compress",
            "execprc",
            "mdfycnfprc",
            "unercsellordqty",
            "cmsnamtexecamt",
            "ruseableamt",
            "gubun",
            "trid",
            "flctqty",
            "execno",
            "lptp",
            "varmsglen",
            "ordno",
            "futsmkttp",
            "crdtexecamt",
            "deposit",
            "frgrunqno",
            "crdayruseexecval",
            "trsrc",
            "ordacntno",
            "reqcnt",
            "shtnIsuno",
            "accno1",
            "strtgcode",
            "ordseqno",
            "Isunm",
            "ordablesubstamt",
            "encrypt",
            "Isuno",
            "accno2",
            "contkey",
            "Loandt",
            "seq",
            "lineseq",
            "varlen",
            "orduserId",
            "mgmtbrnno",
            "rjtqty",
            "ordprcptncode",
            "stdIsuno",
            "pchsant",
            "filler",
            "secbalqty",
            "ordxctptncode",
            "canccnfqty",
            "ordablemny",
            "pubip",
            "prvip",
            "funckey",
            "accno",
            "compreq",
            "crdtpldgruseamt",
            "ordamt",
            "termno",
            "crdtpldgexecamt",
            "ordcndi",
            "rmndLoanamt",
            "bpno",
            "substamt",
            "mgempno",
            "csgnsubstmgn",
            "offset",
            "rcptexectime",
            "sellableqty",
            "spotexecqty",
            "varhdlen",
            "substmgnrat",
            "ordavrexecprc",
            "itemno",
            "mgntrncode",
            "nsavtrdqty",
            "ifinfo",
            "ordableruseqty",
            "ptflno",
            "secbalqtyd2",
            "brwmgmtYn",
            "eventid",
            "csgnmnymgn",
            "pcbpno",
            "orgordno",
            "ifid",
            "media",
            "mtiordseqno",
            "filler1",
            "orgordunercqty",
            "mbrnmbrno",
            "futsLnkbrnno",
            "commdacode",
            "stslexecqty",
            "proctm",
            "bfstdIsuno",
            "futsLnkacntno",
            "lang",
            "unercqty",
            "execqty",
            "adduptp",
            "bskno",
            "spotordableqty",
            "ubstexecamt",
            "cvrgordtp",
            "ordqty",
            "mnyexecamt",
            "outgu",
            "msgcode",
            "ordtrdptncode",
            "ordmktcode",
            "ordptncode",
            "prdayruseexecval",
            "comid",
            "bnstp",
            "user",
            "ordprc",
        ];
        assert_eq!(want.len(), 130);
        assert_eq!(keys::<OrderEventBody>(), sorted(&want));
        for mixed in [
            "shtnIsuno",
            "Isunm",
            "Isuno",
            "stdIsuno",
            "bfstdIsuno",
            "Loandt",
            "orduserId",
            "grpId",
            "brwmgmtYn",
            "rmndLoanamt",
            "futsLnkbrnno",
            "futsLnkacntno",
            "trtzxLevytp",
        ] {
            assert!(want.contains(&mixed), "{mixed}");
        }
    }

    #[test]
    fn blank_optional_numbers_read_as_zero_but_required_ones_do_not() {
        let b = OrderEventBody::default();
        assert_eq!(b.cancelled_qty(), Ok(Qty::lit(0)));
        assert_eq!(b.order_price(), Ok(Price::lit(0)));
        let msg = b.exec_qty().unwrap_err().to_string();
        assert!(msg.contains("execqty") && msg.contains("SC1..SC4"), "{msg}");
        assert!(b.kind().unwrap_err().to_string().contains("ordxctptncode"));
        for k in [
            OrderEventKind::Order,
            OrderEventKind::Modify,
            OrderEventKind::Cancel,
            OrderEventKind::Fill,
            OrderEventKind::ModifyConfirmed,
            OrderEventKind::CancelConfirmed,
            OrderEventKind::Rejected,
        ] {
            assert_eq!(OrderEventKind::from_code(k.code()), Some(k));
        }
        for k in [
            AcceptedKind::New,
            AcceptedKind::Modify,
            AcceptedKind::Cancel,
            AcceptedKind::FillConfirm,
        ] {
            assert_eq!(AcceptedKind::from_code(k.code()), Some(k));
        }
        let sc0 = OrderAcceptedBody {
            trcode: "SONAT999".into(),
            ..OrderAcceptedBody::default()
        };
        assert!(sc0.kind().unwrap_err().to_string().contains("SONAT999"));
    }
}
