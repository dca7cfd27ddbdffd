//! Typed parsing of `key=value` config strings.
//!
//! The host hands [`Plugin::init`](crate::Plugin::init) one config string
//! (the `CONFIG` of `uvplugd --plugin PATH:NAME:CONFIG`). [`Config`] reads the
//! usual form of it: space-separated `key=value` pairs, where a value that
//! must hold spaces is written in double quotes (`greeting="hello, world"`,
//! with `\"` and `\\` as the only escapes). An empty config has no keys.
//!
//! Getters convert a value with [`FromStr`] and mark its key as known;
//! [`Config::finish`] then rejects every key the plugin never asked for, so
//! a typo fails the load instead of being ignored. Every error is an
//! [`Error`] whose message names the key (or the byte position), what was
//! expected and what was found, ready to be returned from `init`.
//!
//! ```
//! use std::time::Duration;
//! use uvplug::config::Config;
//!
//! # fn main() -> uvplug::Result<()> {
//! let mut cfg = Config::parse(r#"topic=ticks every_ms=50 label="two words""#)?;
//! let topic: String = cfg.get_or("topic", "ticks".to_owned())?;
//! let period = cfg.get_duration_ms("every_ms", Duration::from_millis(100))?;
//! let count: u64 = cfg.get_or("count", 40)?;
//! let label = cfg.get_str("label").unwrap_or("").to_owned();
//! cfg.finish()?; // fails on any key not asked for above
//! assert_eq!(
//!     (topic.as_str(), period, count, label.as_str()),
//!     ("ticks", Duration::from_millis(50), 40, "two words")
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Syntax
//!
//! - Pairs are separated by whitespace; leading and trailing whitespace is
//!   ignored.
//! - A key is one or more characters other than whitespace, `=` and `"`.
//!   A key may appear once.
//! - A value is either unquoted (everything up to the next whitespace, may
//!   be empty: `topic=`) or starts with `"` and runs to the next unescaped
//!   `"`; inside quotes `\"` is a quote and `\\` a backslash, any other
//!   backslash is an error. A closing quote must be followed by whitespace
//!   or the end of the string.

use std::any::TypeId;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, Result};

/// The accepted spellings of a `bool` value (ASCII case is ignored).
const BOOL_WORDS: &str = "true/false/yes/no/on/off/1/0";

/// A parsed config string: its `key=value` pairs, and which keys the plugin
/// asked for.
///
/// Created by [`Config::parse`] (or `str::parse`); read with the getters
/// ([`get`](Config::get), [`get_or`](Config::get_or),
/// [`require`](Config::require), [`get_str`](Config::get_str),
/// [`get_duration_ms`](Config::get_duration_ms)); closed with
/// [`finish`](Config::finish).
///
/// ```
/// use uvplug::config::Config;
///
/// let mut cfg: Config = "port=8080".parse().unwrap();
/// assert_eq!(cfg.require::<u16>("port").unwrap(), 8080);
/// assert!(cfg.finish().is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Config {
    entries: Vec<Entry>,
    /// Keys asked for, in the order first asked: the "known" list.
    asked: Vec<String>,
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    value: String,
    used: bool,
}

fn error(msg: String) -> Error {
    Error::msg(msg)
}

impl Config {
    /// Parses `s` (see the [module docs](self) for the syntax).
    ///
    /// A syntax error names the byte position and what was expected
    /// (`config: expected key=value at byte 7, got "abc"`); a key given
    /// twice is an error naming the key (`config: key "topic" given twice`).
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// assert!(Config::parse("").is_ok());
    /// assert!(Config::parse(r#"a=1 b="x \"y\" z""#).is_ok());
    /// let e = Config::parse("count=3 abc").unwrap_err();
    /// assert_eq!(e.to_string(), r#"config: expected key=value at byte 8, got "abc""#);
    /// let e = Config::parse("topic=a topic=b").unwrap_err();
    /// assert_eq!(e.to_string(), r#"config: key "topic" given twice"#);
    /// ```
    pub fn parse(s: &str) -> Result<Config> {
        let mut cfg = Config::default();
        let mut p = Parser { s, pos: 0 };
        loop {
            p.skip_space();
            if p.pos == s.len() {
                return Ok(cfg);
            }
            let key = p.key()?;
            let value = p.value(key)?;
            if cfg.entries.iter().any(|e| e.key == key) {
                return Err(error(format!("config: key {key:?} given twice")));
            }
            cfg.entries.push(Entry {
                key: key.to_owned(),
                value,
                used: false,
            });
        }
    }

    /// The value of `key` as text, or `None` if the key is absent. Marks
    /// `key` as known.
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse(r#"topic=ticks greeting="hello, world""#).unwrap();
    /// assert_eq!(cfg.get_str("topic"), Some("ticks"));
    /// assert_eq!(cfg.get_str("greeting"), Some("hello, world"));
    /// assert_eq!(cfg.get_str("colour"), None);
    /// ```
    pub fn get_str(&mut self, key: &str) -> Option<&str> {
        if !self.asked.iter().any(|k| k == key) {
            self.asked.push(key.to_owned());
        }
        let entry = self.entries.iter_mut().find(|e| e.key == key)?;
        entry.used = true;
        Some(&entry.value)
    }

    /// The value of `key` converted with [`FromStr`], or `Ok(None)` if the
    /// key is absent. Marks `key` as known.
    ///
    /// A value that does not convert is an error naming the key, the
    /// expected type and the value (`config: every_ms: expected u64, got
    /// "fast"`). For `bool`, `true/false/yes/no/on/off/1/0` are accepted in
    /// any ASCII case.
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("count=3 verbose=yes every_ms=fast").unwrap();
    /// assert_eq!(cfg.get::<u32>("count").unwrap(), Some(3));
    /// assert_eq!(cfg.get::<bool>("verbose").unwrap(), Some(true));
    /// assert_eq!(cfg.get::<u32>("missing").unwrap(), None);
    /// let e = cfg.get::<u64>("every_ms").unwrap_err();
    /// assert_eq!(e.to_string(), r#"config: every_ms: expected u64, got "fast""#);
    /// ```
    pub fn get<T: FromStr + 'static>(&mut self, key: &str) -> Result<Option<T>> {
        match self.get_str(key) {
            None => Ok(None),
            Some(value) => convert(key, value).map(Some),
        }
    }

    /// The value of `key` converted as by [`get`](Config::get), or
    /// `default` if the key is absent. Marks `key` as known.
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("count=3").unwrap();
    /// assert_eq!(cfg.get_or("count", 40u64).unwrap(), 3);
    /// assert_eq!(cfg.get_or("topic", "ticks".to_owned()).unwrap(), "ticks");
    /// ```
    pub fn get_or<T: FromStr + 'static>(&mut self, key: &str, default: T) -> Result<T> {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// The value of `key` converted as by [`get`](Config::get); an absent
    /// key is an error (`config: missing required key "port"`). Marks `key`
    /// as known.
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("port=8080").unwrap();
    /// assert_eq!(cfg.require::<u16>("port").unwrap(), 8080);
    /// let e = cfg.require::<String>("host").unwrap_err();
    /// assert_eq!(e.to_string(), r#"config: missing required key "host""#);
    /// ```
    pub fn require<T: FromStr + 'static>(&mut self, key: &str) -> Result<T> {
        self.get(key)?
            .ok_or_else(|| error(format!("config: missing required key {key:?}")))
    }

    /// The value of `key` as a whole number of milliseconds, or `default`
    /// if the key is absent. Marks `key` as known.
    ///
    /// ```
    /// use std::time::Duration;
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("every_ms=250 timeout_ms=soon").unwrap();
    /// let every = cfg.get_duration_ms("every_ms", Duration::from_secs(1)).unwrap();
    /// assert_eq!(every, Duration::from_millis(250));
    /// let e = cfg.get_duration_ms("timeout_ms", Duration::ZERO).unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     r#"config: timeout_ms: expected milliseconds (u64), got "soon""#
    /// );
    /// ```
    pub fn get_duration_ms(&mut self, key: &str, default: Duration) -> Result<Duration> {
        match self.get_str(key) {
            None => Ok(default),
            Some(v) => v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                error(format!(
                    "config: {key}: expected milliseconds (u64), got {v:?}"
                ))
            }),
        }
    }

    /// An error for a value that parsed but is not acceptable, in the same
    /// form as the getters' errors: `config: KEY: WHY`.
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("every_ms=0").unwrap();
    /// let every_ms: u64 = cfg.get_or("every_ms", 50).unwrap();
    /// let checked = if every_ms == 0 {
    ///     Err(Config::invalid("every_ms", "must be at least 1"))
    /// } else {
    ///     Ok(every_ms)
    /// };
    /// assert_eq!(
    ///     checked.unwrap_err().to_string(),
    ///     "config: every_ms: must be at least 1"
    /// );
    /// ```
    pub fn invalid(key: &str, why: impl fmt::Display) -> Error {
        error(format!("config: {key}: {why}"))
    }

    /// Ends reading: `Ok` if every key in the string was asked for by a
    /// getter, else an error naming the unknown keys and the known ones
    /// (`config: unknown key "cuont" (known: topic, every_ms, count)`).
    ///
    /// ```
    /// use uvplug::config::Config;
    ///
    /// let mut cfg = Config::parse("topic=t cuont=3").unwrap();
    /// let _topic = cfg.get_str("topic");
    /// let _count: Option<u64> = cfg.get("count").unwrap();
    /// assert_eq!(
    ///     cfg.finish().unwrap_err().to_string(),
    ///     r#"config: unknown key "cuont" (known: topic, count)"#
    /// );
    /// ```
    pub fn finish(self) -> Result<()> {
        let unknown: Vec<String> = self
            .entries
            .iter()
            .filter(|e| !e.used)
            .map(|e| format!("{:?}", e.key))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let known = if self.asked.is_empty() {
            "none".to_owned()
        } else {
            self.asked.join(", ")
        };
        let noun = if unknown.len() == 1 { "key" } else { "keys" };
        Err(error(format!(
            "config: unknown {noun} {} (known: {known})",
            unknown.join(", ")
        )))
    }
}

/// `"...".parse::<Config>()`, the same as [`Config::parse`].
///
/// ```
/// use uvplug::config::Config;
///
/// let cfg: Config = "a=1".parse().unwrap();
/// assert!(cfg.finish().is_err()); // "a" was never asked for
/// ```
impl FromStr for Config {
    type Err = Error;

    fn from_str(s: &str) -> Result<Config> {
        Config::parse(s)
    }
}

/// Converts `value` of `key` to `T`; a `bool` also takes the other words
/// of [`BOOL_WORDS`].
fn convert<T: FromStr + 'static>(key: &str, value: &str) -> Result<T> {
    let is_bool = TypeId::of::<T>() == TypeId::of::<bool>();
    let text = if is_bool {
        bool_word(value).unwrap_or(value)
    } else {
        value
    };
    text.parse::<T>().map_err(|_| {
        let expected = if is_bool {
            format!("bool ({BOOL_WORDS})")
        } else {
            short_type_name(std::any::type_name::<T>())
        };
        error(format!("config: {key}: expected {expected}, got {value:?}"))
    })
}

/// The `bool::from_str` spelling of a boolean word, if it is one.
fn bool_word(value: &str) -> Option<&'static str> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some("true"),
        "false" | "no" | "off" | "0" => Some("false"),
        _ => None,
    }
}

/// `alloc::string::String` -> `String`, `core::option::Option<u8>` ->
/// `Option<u8>`: the type as a plugin author wrote it.
fn short_type_name(full: &str) -> String {
    fn last(path: &str) -> &str {
        path.rsplit("::").next().unwrap_or(path)
    }
    let mut out = String::new();
    let mut path = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            out.push_str(last(&path));
            path.clear();
            out.push(c);
        }
    }
    out.push_str(last(&path));
    out
}

/// A cursor over the config string; `pos` is a byte offset on a char
/// boundary.
struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// The text from `pos` up to the next whitespace (for messages).
    fn token(&self) -> &'a str {
        let rest = self.rest();
        rest.split(char::is_whitespace).next().unwrap_or(rest)
    }

    /// Reads `key=`, leaving `pos` after the `=`.
    fn key(&mut self) -> Result<&'a str> {
        let token = self.token();
        let key = token.split('=').next().unwrap_or(token);
        if key.is_empty() || key.len() == token.len() || key.contains('"') {
            return Err(error(format!(
                "config: expected key=value at byte {}, got {token:?}",
                self.pos
            )));
        }
        self.pos += key.len() + 1;
        Ok(key)
    }

    /// Reads a value (quoted or not), leaving `pos` after it.
    fn value(&mut self, key: &str) -> Result<String> {
        if self.rest().starts_with('"') {
            return self.quoted(key);
        }
        let value = self.token();
        self.pos += value.len();
        Ok(value.to_owned())
    }

    fn quoted(&mut self, key: &str) -> Result<String> {
        let open = self.pos;
        let mut value = String::new();
        let mut chars = self.s[open + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            let at = open + 1 + i;
            match c {
                '"' => {
                    self.pos = at + 1;
                    return self.after_quote().map(|()| value);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('"' | '\\'))) => value.push(e),
                    other => {
                        let got = match other {
                            Some((_, e)) => format!("{:?}", format!("\\{e}")),
                            None => "end of config".to_owned(),
                        };
                        return Err(error(format!(
                            "config: expected \\\" or \\\\ at byte {at}, got {got}"
                        )));
                    }
                },
                c => value.push(c),
            }
        }
        Err(error(format!(
            "config: expected a closing quote for {key:?} (opened at byte {open}), \
             got end of config"
        )))
    }

    fn after_quote(&self) -> Result<()> {
        match self.rest().chars().next() {
            Some(c) if !c.is_whitespace() => Err(error(format!(
                "config: expected a space after the closing quote at byte {}, got {:?}",
                self.pos,
                self.token()
            ))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: fmt::Debug>(r: Result<T>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), Error::Invalid);
        assert_eq!(e.code(), crate::sys::UVP_EINVAL);
        assert_eq!(e.message(), Some(e.to_string().as_str()));
        e.to_string()
    }

    fn pairs(cfg: &Config) -> Vec<(&str, &str)> {
        cfg.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect()
    }

    #[test]
    fn parses_pairs_quotes_and_escapes() {
        let cfg = Config::parse(
            " topic=ticks\tempty=  q=\"a b\" esc=\"say \\\"hi\\\" c:\\\\\" eq=a=b \
             u=h\u{e9}\"llo\" \n",
        )
        .unwrap();
        assert_eq!(
            pairs(&cfg),
            vec![
                ("topic", "ticks"),
                ("empty", ""),
                ("q", "a b"),
                ("esc", "say \"hi\" c:\\"),
                ("eq", "a=b"),
                ("u", "h\u{e9}\"llo\""),
            ]
        );
        assert!(Config::parse("").unwrap().entries.is_empty());
        assert!(Config::parse(" \t\n ").unwrap().finish().is_ok());
        let cfg = Config::parse("q=\"\"").unwrap();
        assert_eq!(pairs(&cfg), vec![("q", "")]);
    }

    #[test]
    fn syntax_errors_name_the_byte_and_what_was_expected() {
        let cases = [
            (
                "count",
                r#"config: expected key=value at byte 0, got "count""#,
            ),
            (
                "topic=a abc",
                r#"config: expected key=value at byte 8, got "abc""#,
            ),
            ("=5", r#"config: expected key=value at byte 0, got "=5""#),
            (
                "a=1 \"k\"=2",
                r#"config: expected key=value at byte 4, got "\"k\"=2""#,
            ),
            (
                "msg=\"open",
                r#"config: expected a closing quote for "msg" (opened at byte 4), got end of config"#,
            ),
            (
                "msg=\"a\\nb\"",
                r#"config: expected \" or \\ at byte 6, got "\\n""#,
            ),
            (
                "msg=\"a\\",
                r#"config: expected \" or \\ at byte 6, got end of config"#,
            ),
            (
                "msg=\"a\"b c=1",
                r#"config: expected a space after the closing quote at byte 7, got "b""#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(msg(Config::parse(input)), want, "{input}");
        }
    }

    #[test]
    fn a_key_given_twice_is_an_error() {
        assert_eq!(
            msg(Config::parse("topic=a count=1 topic=b")),
            r#"config: key "topic" given twice"#
        );
        assert_eq!(
            msg("x=1 x=1".parse::<Config>()),
            r#"config: key "x" given twice"#
        );
    }

    #[test]
    fn typed_getters_convert_and_default() {
        let mut cfg =
            Config::parse("every_ms=50 ratio=0.5 name=\"a b\" neg=-3 addr=127.0.0.1:80").unwrap();
        assert_eq!(cfg.get::<u64>("every_ms").unwrap(), Some(50));
        assert_eq!(cfg.get::<f64>("ratio").unwrap(), Some(0.5));
        assert_eq!(cfg.get::<String>("name").unwrap(), Some("a b".to_owned()));
        assert_eq!(cfg.get::<i8>("neg").unwrap(), Some(-3));
        assert_eq!(
            cfg.require::<std::net::SocketAddr>("addr").unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        assert_eq!(cfg.get::<u64>("count").unwrap(), None);
        assert_eq!(cfg.get_or("count", 40u64).unwrap(), 40);
        assert_eq!(cfg.get_or("every_ms", 7u64).unwrap(), 50);
        assert_eq!(cfg.get_str("name"), Some("a b"));
        assert_eq!(cfg.get_str("nope"), None);
        assert!(cfg.finish().is_ok());
    }

    #[test]
    fn conversion_errors_name_key_type_and_value() {
        let mut cfg =
            Config::parse("every_ms=fast big=300 addr=localhost f=x on=maybe empty=").unwrap();
        assert_eq!(
            msg(cfg.get::<u64>("every_ms")),
            r#"config: every_ms: expected u64, got "fast""#
        );
        assert_eq!(
            msg(cfg.get_or("big", 1u8)),
            r#"config: big: expected u8, got "300""#
        );
        assert_eq!(
            msg(cfg.require::<std::net::SocketAddr>("addr")),
            r#"config: addr: expected SocketAddr, got "localhost""#
        );
        assert_eq!(
            msg(cfg.get::<f32>("f")),
            r#"config: f: expected f32, got "x""#
        );
        assert_eq!(
            msg(cfg.get::<bool>("on")),
            r#"config: on: expected bool (true/false/yes/no/on/off/1/0), got "maybe""#
        );
        assert_eq!(
            msg(cfg.get::<u32>("empty")),
            r#"config: empty: expected u32, got """#
        );
        // Still "known" after a failed conversion: finish does not repeat it.
        assert!(cfg.finish().is_ok());
    }

    #[test]
    fn booleans_take_the_usual_words() {
        let words = "a=true b=yes c=on d=1 e=TRUE f=Yes g=false h=no i=off j=0 k=OFF";
        let mut cfg = Config::parse(words).unwrap();
        for key in ["a", "b", "c", "d", "e", "f"] {
            assert_eq!(cfg.get::<bool>(key).unwrap(), Some(true), "{key}");
        }
        for key in ["g", "h", "i", "j", "k"] {
            assert_eq!(cfg.get::<bool>(key).unwrap(), Some(false), "{key}");
        }
        assert!(cfg.get_or("missing", true).unwrap());
        // Other types see the word as written.
        let mut cfg = Config::parse("n=1 s=yes").unwrap();
        assert_eq!(cfg.get::<u8>("n").unwrap(), Some(1));
        assert_eq!(cfg.get::<String>("s").unwrap(), Some("yes".to_owned()));
    }

    #[test]
    fn require_names_a_missing_key() {
        let mut cfg = Config::parse("").unwrap();
        assert_eq!(
            msg(cfg.require::<u16>("port")),
            r#"config: missing required key "port""#
        );
        let mut cfg = Config::parse("port=x").unwrap();
        assert_eq!(
            msg(cfg.require::<u16>("port")),
            r#"config: port: expected u16, got "x""#
        );
    }

    #[test]
    fn durations_in_milliseconds() {
        let mut cfg = Config::parse("every_ms=1500 zero=0 bad=1.5 neg=-1").unwrap();
        let dflt = Duration::from_millis(9);
        assert_eq!(
            cfg.get_duration_ms("every_ms", dflt).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(cfg.get_duration_ms("zero", dflt).unwrap(), Duration::ZERO);
        assert_eq!(cfg.get_duration_ms("absent", dflt).unwrap(), dflt);
        assert_eq!(
            msg(cfg.get_duration_ms("bad", dflt)),
            r#"config: bad: expected milliseconds (u64), got "1.5""#
        );
        assert_eq!(
            msg(cfg.get_duration_ms("neg", dflt)),
            r#"config: neg: expected milliseconds (u64), got "-1""#
        );
        assert!(cfg.finish().is_ok());
    }

    #[test]
    fn finish_rejects_keys_never_asked_for() {
        let mut cfg = Config::parse("topic=t cuont=3 every_ms=5").unwrap();
        let _ = cfg.get_str("topic");
        let _ = cfg.get::<u64>("every_ms");
        let _ = cfg.get::<u64>("count");
        let _ = cfg.get_str("topic"); // asked twice, listed once
        assert_eq!(
            msg(cfg.finish()),
            r#"config: unknown key "cuont" (known: topic, every_ms, count)"#
        );

        let cfg = Config::parse("a=1 b=2").unwrap();
        assert_eq!(
            msg(cfg.finish()),
            r#"config: unknown keys "a", "b" (known: none)"#
        );

        let mut cfg = Config::parse("x=1").unwrap();
        assert_eq!(cfg.get_or("x", 0u8).unwrap(), 1);
        assert!(cfg.finish().is_ok());
    }

    #[test]
    fn invalid_formats_like_the_getters() {
        let e = Config::invalid("every_ms", "must be at least 1");
        assert_eq!(e.to_string(), "config: every_ms: must be at least 1");
        assert_eq!(e.message(), Some("config: every_ms: must be at least 1"));
    }

    #[test]
    fn short_type_names() {
        assert_eq!(short_type_name("alloc::string::String"), "String");
        assert_eq!(short_type_name("u64"), "u64");
        assert_eq!(
            short_type_name("core::option::Option<alloc::string::String>"),
            "Option<String>"
        );
        assert_eq!(
            short_type_name("(core::net::ip_addr::IpAddr, u16)"),
            "(IpAddr, u16)"
        );
    }
}
