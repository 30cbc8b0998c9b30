//! The embedded LS-compatible exchange.
