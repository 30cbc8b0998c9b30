//! The simulator's Kiwoom front end (`condor sim --protocol kiwoom`): Kiwoom REST's
//! token, envelope and TRs on the REST port, and Kiwoom's websocket (LOGIN, PING,
//! REG/REMOVE, REAL 0B/00/04/02, CNSRLST/CNSRREQ/CNSRCLR) on the other, over the same
//! exchange as the LS front end. Every byte sent and every request read goes through the
//! Kiwoom wire crate (`condor_model::kiwoom`); `protocol/kiwoom-rest.md` §10 is the
//! checklist followed.
//!
//! Owns nothing but the translation: the exchange owns the market, orders, account and
//! conditions; the engine owns sessions, tokens and rate limits. Must never change the
//! exchange's behaviour for Kiwoom's sake: where Kiwoom differs (order numbers, error
//! shapes, per-connection conditions) it is said here, not there.

pub(crate) mod auth;
pub(crate) mod http;
pub(crate) mod render;
pub(crate) mod session;
pub(crate) mod tr;

use condor_model::kiwoom::rest::{encode_refusal, inner_message};

/// Kiwoom's account number is 10 digits (the last two a product code); the exchange's
/// is LS's 11. The first ten are used.
pub(crate) fn account_no(exchange: &super::exchange::Exchange) -> String {
    exchange.account_no().chars().take(10).collect()
}

/// A refusal body with an inner code: `{"return_code":3,"return_msg":"인증에 실패했습니다[8005:…]"}`.
pub(crate) fn refusal(return_code: i64, wrapper: &str, code: u32, text: &str) -> String {
    encode_refusal(return_code, &inner_message(wrapper, code, text))
}
