//! The lesson's experiments: the same data, split, seed and schedule trained once per setting that varies
//! (LoRA's rank, the target sets, the method), one after another. This is the one place that turns "what varies"
//! into the list of runs, so the page's Experiment panel and the CLI's `sweep`/`compare` train the same plans.
//!
//! Fair by default: each method gets its usual learning rate (`Method::usual_lr`) unless the base plan names one,
//! and `lora_alpha` follows `r` at the base plan's `alpha / r` unless `fixed_alpha`, so a rank sweep changes the
//! rank and not the update's scale as well.

use serde_json::{Value, json};

use super::plan::{Plan, check_lr, lr_given};
use crate::accounting::lora_config::TargetModules;
use crate::error::Error;
use crate::model::methods::Method;

/// What varies. Read from `{"methods": "lora,full", "ranks": "1,4,16", "target_sets": "query,value;all-linear",
/// "fixed_alpha": false, "full_lr": "5e-5"}`; a key left out (or blank) keeps the base plan's setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub methods: Vec<Method>,
    pub ranks: Vec<u64>,
    /// Each a `target_modules` list as `parse_list` reads it ("query,value" or "all-linear").
    pub target_sets: Vec<String>,
    pub fixed_alpha: bool,
    /// Full fine-tuning's rate when the base plan's `lr` is meant for the others (the CLI's `--full-lr`).
    pub full_lr: Option<f64>,
}

/// One run of an experiment: a name that says what varied (also its folder's name) and its plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub name: String,
    pub plan: Plan,
}

/// At most this many runs: a typo ("1,2,...,640") should not queue a day of training in a classroom.
const MAX_RUNS: usize = 64;

impl Grid {
    pub fn from_json(v: &Value, base: &Plan) -> Result<Grid, Error> {
        let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        let methods = list("methods", text("methods").unwrap_or(base.method.name()), ',', Method::parse)?;
        let ranks = match text("ranks") {
            Some(t) => list("ranks", t, ',', |r| {
                r.parse::<u64>()
                    .ok()
                    .filter(|&r| r > 0)
                    .ok_or_else(|| Error::invalid("ranks", format!("'{r}' is not a positive whole number")))
            })?,
            None => vec![base.lora.r],
        };
        let default_targets = base.lora.target_modules.as_ref().map(TargetModules::to_list).unwrap_or_default();
        let target_sets =
            list("target_sets", text("target_sets").unwrap_or(&default_targets), ';', |t| Ok(t.to_string()))?;
        let fixed_alpha = match v.get("fixed_alpha") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "1" | "true"),
            Some(other) => return Err(Error::invalid("fixed_alpha", format!("must be true or false, not {other}"))),
        };
        let full_lr = match text("full_lr") {
            None => None,
            Some(t) => {
                let lr = t
                    .parse::<f64>()
                    .map_err(|_| Error::invalid("full_lr", format!("must be a number such as 5e-5, not '{t}'")))?;
                check_lr("full_lr", lr, "5e-5")?;
                Some(lr)
            }
        };
        Ok(Grid { methods, ranks, target_sets, fixed_alpha, full_lr })
    }
}

fn list<T>(key: &str, text: &str, sep: char, parse: impl Fn(&str) -> Result<T, Error>) -> Result<Vec<T>, Error> {
    let items = text
        .split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).map_err(|e| Error::invalid(key, e.message)));
    let items: Vec<T> = items.collect::<Result<_, _>>()?;
    if items.is_empty() { Err(Error::invalid(key, "give at least one")) } else { Ok(items) }
}

/// Every run of the experiment: LoRA once per target set and rank, each other method once. `fields` is the base
/// plan as the page or the CLI gives it (its `lr`, when set, is every run's; else each method its usual one).
pub fn runs(fields: &Value, grid: &Grid) -> Result<Vec<Run>, Error> {
    let base = Plan::from_json(fields)?;
    let lr_for = |m: Method| match (m, grid.full_lr) {
        (Method::Full, Some(lr)) => lr,
        _ if lr_given(fields) => base.train.lr,
        _ => m.usual_lr(),
    };
    let single = grid.ranks.len() == 1 && grid.target_sets.len() == 1;
    let mut out = Vec::new();
    for &method in &grid.methods {
        let mut plan = base.clone();
        plan.method = method;
        plan.train.lr = lr_for(method);
        if method != Method::Lora {
            out.push(Run { name: method.name().into(), plan });
            continue;
        }
        for targets in &grid.target_sets {
            for &r in &grid.ranks {
                let mut p = plan.clone();
                p.lora.r = r;
                if !grid.fixed_alpha {
                    p.lora.lora_alpha = base.lora.lora_alpha * r as f64 / base.lora.r as f64;
                }
                p.lora.target_modules = Some(TargetModules::parse_list(targets));
                let name =
                    if single { "lora".into() } else { format!("lora-r{r}-{}", targets.replace([',', ' '], "+")) };
                out.push(Run { name, plan: p });
            }
        }
    }
    if out.len() > MAX_RUNS {
        return Err(Error::invalid(
            "ranks",
            format!("{} runs is more than {MAX_RUNS}: vary fewer settings at once", out.len()),
        ));
    }
    for run in &out {
        run.plan.validate().map_err(|e| Error::invalid(&e.field, format!("{} (run {})", e.message, run.name)))?;
    }
    Ok(out)
}

/// The runs as the page lists them before they start: `[{name, plan}]`, each plan in `Plan::to_json`'s form.
pub fn to_json(runs: &[Run]) -> Value {
    Value::Array(runs.iter().map(|r| json!({"name": r.name, "plan": r.plan.to_json()})).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(v: Value) -> Grid {
        Grid::from_json(&v, &Plan::default()).unwrap()
    }

    #[test]
    fn a_rank_sweep_keeps_alpha_over_r_and_names_each_run() {
        let runs =
            runs(&json!({}), &grid(json!({"ranks": "1, 4,16", "target_sets": "query,value;all-linear"}))).unwrap();
        let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "lora-r1-query+value",
                "lora-r4-query+value",
                "lora-r16-query+value",
                "lora-r1-all-linear",
                "lora-r4-all-linear",
                "lora-r16-all-linear"
            ]
        );
        // The default plan is r=8, alpha=16: alpha / r = 2 in every run.
        assert!(runs.iter().all(|r| r.plan.lora.lora_alpha == 2.0 * r.plan.lora.r as f64));
        let fixed = super::runs(&json!({}), &grid(json!({"ranks": "1,64", "fixed_alpha": true}))).unwrap();
        assert!(fixed.iter().all(|r| r.plan.lora.lora_alpha == 16.0));
    }

    #[test]
    fn each_method_gets_its_usual_lr_unless_the_plan_names_one() {
        let methods = grid(json!({"methods": "lora,full,head,bitfit"}));
        let usual = runs(&json!({"lr": ""}), &methods).unwrap();
        for r in &usual {
            assert_eq!(r.plan.train.lr, r.plan.method.usual_lr(), "{}", r.name);
        }
        assert_eq!(usual.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["lora", "full", "head", "bitfit"]);
        let set = runs(&json!({"lr": "2e-3"}), &Grid { full_lr: Some(5e-5), ..methods }).unwrap();
        let lrs: Vec<f64> = set.iter().map(|r| r.plan.train.lr).collect();
        assert_eq!(lrs, [2e-3, 5e-5, 2e-3, 2e-3]);
    }

    #[test]
    fn bad_grids_name_their_field() {
        for (v, field) in [
            (json!({"ranks": "4,x"}), "ranks"),
            (json!({"ranks": " , "}), "ranks"),
            (json!({"methods": "lora,dora"}), "methods"),
            (json!({"full_lr": "fast"}), "full_lr"),
            (json!({"fixed_alpha": 3}), "fixed_alpha"),
        ] {
            assert_eq!(Grid::from_json(&v, &Plan::default()).unwrap_err().field, field, "{v}");
        }
        let too_many = grid(json!({"ranks": (1..=65).map(|r| r.to_string()).collect::<Vec<_>>().join(",")}));
        assert_eq!(runs(&json!({}), &too_many).unwrap_err().field, "ranks");
        // A rank over the plan's limit is refused with the run it belongs to.
        let e = runs(&json!({}), &grid(json!({"ranks": "8,5000"}))).unwrap_err();
        assert!(e.message.contains("lora-r5000"), "{}", e.message);
    }
}
