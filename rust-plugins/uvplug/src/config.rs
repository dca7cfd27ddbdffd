//! Typed parsing of `key=value` config strings.
