//! Why the exchange refused a request, as LS would say it: a five-digit `rsp_cd`, the
//! Korean `rsp_msg`, and a typed reason for code that wants to branch on it.
//!
//! Owns the one table of codes ([`REJECT_CODES`]) so the README can print it. Must never
//! invent a code outside this table, and never put diagnostic detail into `message`
//! (clients compare `rsp_msg` text, e.g. look for "부족"): detail goes in `detail`.

use std::fmt;

/// A refused submit / modify / cancel / alert registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// LS `rsp_cd`, five characters.
    pub code: &'static str,
    /// LS `rsp_msg`: the canonical Korean text of `code`, unchanged.
    pub message: String,
    pub reason: RejectReason,
    /// English specifics for logs ("price 3000 below lower limit 3170"); never sent as `rsp_msg`.
    pub detail: String,
}

impl Reject {
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Reject {
        Reject {
            code: reason.code(),
            message: reason.message().to_owned(),
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} ({})", self.code, self.message, self.detail)
    }
}

impl std::error::Error for Reject {}

/// Every way a request can be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `IsuNo` is not `NNNNNN` / `ANNNNNN`.
    BadTickerFormat,
    /// Well-formed code that the exchange does not list.
    UnknownTicker,
    /// Quantity ≤ 0 (or absurdly large) where shares are required.
    BadQty,
    /// Limit price ≤ 0.
    BadPrice,
    /// Limit price not a multiple of its band's tick.
    OffGrid,
    /// Limit price above the day's upper limit.
    AboveUpperLimit,
    /// Limit price below the day's lower limit.
    BelowLowerLimit,
    /// `OrdprcPtnCode` other than `00` (limit) or `03` (market).
    UnsupportedPriceType,
    /// `OrdCndiTpCode` other than `0` (IOC `1` / FOK `2` are not simulated).
    UnsupportedCondition,
    /// Outside the regular session (09:00 ≤ t < 15:30) by the simulated clock.
    MarketClosed,
    /// A buy's reserve exceeds the orderable cash.
    InsufficientCash,
    /// A sell exceeds held − already-working sells.
    InsufficientSellable,
    /// Modify/cancel of an order number the exchange never issued.
    UnknownOrder,
    /// Modify/cancel of an order with nothing left working (filled, cancelled, modified,
    /// or itself a cancel).
    OrderNotWorking,
    /// Modify/cancel whose `IsuNo` differs from the original order's stock.
    TickerMismatch,
    /// `query_index` not among the exchange's conditions.
    UnknownCondition,
    /// `sAlertNum` not currently registered.
    UnknownAlert,
}

/// One row of the reject table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RejectCode {
    pub reason: RejectReason,
    pub code: &'static str,
    pub message: &'static str,
    /// `"LS"` when the reference confirms the code, `"LS (UNCONFIRMED)"` for a guess at
    /// LS's code, `"simulator"` for codes LS is not known to have (the 9xxxx block, so a
    /// log line shows at a glance that the simulator, not LS, said it).
    pub origin: &'static str,
}

/// The complete table of reject codes the exchange can answer with.
pub const REJECT_CODES: &[RejectCode] = &[
    RejectCode {
        reason: RejectReason::BelowLowerLimit,
        code: "03181",
        message: "주문가격이 하한가 미달입니다.",
        origin: "LS",
    },
    // UNCONFIRMED: LS's code for "above the upper limit" is not in the reference; 03180
    // is a guess next to the confirmed 03181, with the matching message.
    RejectCode {
        reason: RejectReason::AboveUpperLimit,
        code: "03180",
        message: "주문가격이 상한가 초과입니다.",
        origin: "LS (UNCONFIRMED)",
    },
    // The code is LS's (reference §4.5, from programgarden); the message text is UNCONFIRMED.
    RejectCode {
        reason: RejectReason::InsufficientSellable,
        code: "01478",
        message: "매도가능수량이 부족합니다.",
        origin: "LS (message UNCONFIRMED)",
    },
    RejectCode {
        reason: RejectReason::BadTickerFormat,
        code: "90001",
        message: "종목코드 형식이 올바르지 않습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnknownTicker,
        code: "90002",
        message: "존재하지 않는 종목입니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::BadQty,
        code: "90003",
        message: "주문수량이 올바르지 않습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::BadPrice,
        code: "90004",
        message: "주문가격이 올바르지 않습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::OffGrid,
        code: "90005",
        message: "호가단위에 맞지 않는 주문가격입니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnsupportedPriceType,
        code: "90006",
        message: "지원하지 않는 호가유형입니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnsupportedCondition,
        code: "90007",
        message: "지원하지 않는 주문조건입니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::MarketClosed,
        code: "90008",
        message: "장운영시간이 아닙니다.",
        origin: "simulator",
    },
    // Clients classify insufficient cash by `rsp_msg` containing "부족" (reference §6).
    RejectCode {
        reason: RejectReason::InsufficientCash,
        code: "90009",
        message: "주문가능금액이 부족합니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnknownOrder,
        code: "90010",
        message: "원주문번호가 존재하지 않습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::OrderNotWorking,
        code: "90011",
        message: "정정/취소 가능한 수량이 없습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::TickerMismatch,
        code: "90012",
        message: "원주문의 종목과 일치하지 않습니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnknownCondition,
        code: "90013",
        message: "존재하지 않는 조건검색입니다.",
        origin: "simulator",
    },
    RejectCode {
        reason: RejectReason::UnknownAlert,
        code: "90014",
        message: "등록되지 않은 실시간 조건검색입니다.",
        origin: "simulator",
    },
];

impl RejectReason {
    fn row(self) -> &'static RejectCode {
        // Every variant has exactly one row (tested); the fallback is unreachable in
        // practice but keeps this total without a panic.
        REJECT_CODES
            .iter()
            .find(|r| r.reason == self)
            .unwrap_or(&REJECT_CODES[0])
    }

    pub fn code(self) -> &'static str {
        self.row().code
    }

    pub fn message(self) -> &'static str {
        self.row().message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [RejectReason; 17] = [
        RejectReason::BadTickerFormat,
        RejectReason::UnknownTicker,
        RejectReason::BadQty,
        RejectReason::BadPrice,
        RejectReason::OffGrid,
        RejectReason::AboveUpperLimit,
        RejectReason::BelowLowerLimit,
        RejectReason::UnsupportedPriceType,
        RejectReason::UnsupportedCondition,
        RejectReason::MarketClosed,
        RejectReason::InsufficientCash,
        RejectReason::InsufficientSellable,
        RejectReason::UnknownOrder,
        RejectReason::OrderNotWorking,
        RejectReason::TickerMismatch,
        RejectReason::UnknownCondition,
        RejectReason::UnknownAlert,
    ];

    #[test]
    fn every_reason_has_one_row_and_codes_are_unique_five_digits() {
        assert_eq!(REJECT_CODES.len(), ALL.len());
        for r in ALL {
            assert_eq!(
                REJECT_CODES.iter().filter(|c| c.reason == r).count(),
                1,
                "{r:?}"
            );
        }
        let mut codes: Vec<_> = REJECT_CODES.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), REJECT_CODES.len());
        for c in REJECT_CODES {
            assert!(c.code.len() == 5 && c.code.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(RejectReason::BelowLowerLimit.code(), "03181");
        assert_eq!(RejectReason::InsufficientSellable.code(), "01478");
        assert!(RejectReason::InsufficientCash.message().contains("부족"));
    }
}
