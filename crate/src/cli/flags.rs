//! `--flag value` / `--flag=value` / `--switch` parsing for the training commands, with messages naming the flag.

use std::collections::BTreeMap;
use std::str::FromStr;

pub struct Flags {
    values: BTreeMap<String, String>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `args`; `valued` take a value, `switches` do not. Anything else is an error naming it.
    pub fn parse(args: &[String], valued: &[&str], switches: &[&str]) -> Result<Self, String> {
        let (mut values, mut on) = (BTreeMap::new(), Vec::new());
        let mut i = 0;
        while i < args.len() {
            let (name, inline) = match args[i].split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (args[i].clone(), None),
            };
            if switches.contains(&name.as_str()) {
                on.push(name);
            } else if valued.contains(&name.as_str()) {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        args.get(i).cloned().ok_or_else(|| format!("{name} needs a value"))?
                    }
                };
                values.insert(name, v);
            } else {
                return Err(format!("unknown option '{name}'"));
            }
            i += 1;
        }
        Ok(Self { values, switches: on })
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn on(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The flag's value parsed as `T`, or `default`; `what` says what a good value looks like.
    pub fn get<T: FromStr>(&self, name: &str, default: T, what: &str) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{name} '{v}': expected {what}")),
        }
    }
}
