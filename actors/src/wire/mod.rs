//! LS OPEN API wire formats (placeholder until the wire module lands).
