//! `--flag value` / `--flag=value` / `--switch` parsing for every command, with messages naming the flag. Written
//! here rather than taken from clap: the commands' messages name the flag the way the page names a field (tests
//! read them), and the whole parser is the 60 lines below.

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

    /// `args` with each alias (`--lora-alpha`, PEFT's name) replaced by the flag it stands for (`--alpha`), in
    /// both the `--flag value` and the `--flag=value` form.
    pub fn canonical(args: &[String], aliases: &[(&str, &str)]) -> Vec<String> {
        args.iter()
            .map(|a| {
                let (name, rest) = a.split_once('=').map_or((a.as_str(), None), |(n, v)| (n, Some(v)));
                match aliases.iter().find(|(alias, _)| *alias == name) {
                    Some((_, to)) => rest.map_or(to.to_string(), |v| format!("{to}={v}")),
                    None => a.clone(),
                }
            })
            .collect()
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn on(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    /// The flag's value parsed as `T`, or `default`; `what` says what a good value looks like.
    #[cfg_attr(not(feature = "train"), allow(dead_code))] // the training commands' (count and serve read strings)
    pub fn get<T: FromStr>(&self, name: &str, default: T, what: &str) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{name} '{v}': expected {what}")),
        }
    }
}
