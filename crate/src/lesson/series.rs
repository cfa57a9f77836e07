//! The data behind a lesson's small charts (`<lp-chart>`): trainable parameters against rank, and one figure for
//! each training method. Computed here so the chart and the figures beside it come from the same report.

use serde::Serialize;

use crate::accounting::report::{self, MAX_RANK};
use crate::error::Error;
use crate::lesson::figure::{self, Kind};
use crate::lesson::format::format;
use crate::lesson::spec::Spec;

#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// `y` as the chart's labels write it.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub kind: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<Point>,
    /// The point the element's own setup is at (its `r` on a rank chart), to mark.
    pub marked: Option<usize>,
}

pub const CHARTS: &[(&str, &str)] = &[
    ("rank", "trainable parameters against r, from r = 1 to max= (default 64), the element's r marked"),
    ("methods", "one bar per method (LoRA, full, head-only, BitFit) of show= (default memory)"),
];

pub fn series(spec: &Spec) -> Result<Series, Error> {
    let setup = spec.setup()?;
    let rep = report::compute(&setup)?;
    let style = spec.get("format");
    let digits = spec.digits()?;
    match spec.get("kind").map(str::trim).unwrap_or("rank") {
        "rank" => {
            let max = match spec.get("max") {
                Some(m) => {
                    m.trim().parse::<u64>().ok().filter(|m| (2..=MAX_RANK).contains(m)).ok_or_else(|| {
                        Error::invalid("max", format!("max=\"{m}\" is not a rank from 2 to {MAX_RANK}"))
                    })?
                }
                None => 64,
            };
            let points = (1..=max)
                .map(|r| {
                    let y = rep.rank_curve[r as usize - 1] as f64;
                    let text = format(figure::Figure { value: y, kind: Kind::Count }, style, digits)?;
                    Ok(Point { label: format!("r = {r}"), x: r as f64, y, text })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let r = setup.lora.r;
            Ok(Series {
                kind: "rank".into(),
                x_label: "rank r".into(),
                y_label: "trainable parameters".into(),
                points,
                marked: (1..=max).contains(&r).then(|| r as usize - 1),
            })
        }
        "methods" => {
            let show = spec.get("show").unwrap_or("memory").to_string();
            let mut points = Vec::new();
            for (i, method) in ["lora", "full", "head_only", "bitfit"].into_iter().enumerate() {
                let mut one = spec.clone();
                one.0.insert("show".into(), show.clone());
                one.0.insert("method".into(), method.into());
                let fig = figure::figure(&rep, &one)?;
                let text = format(fig, style, digits)?;
                let label = ["LoRA", "full fine-tuning", "head only", "BitFit"][i].to_string();
                points.push(Point { label, x: i as f64, y: fig.value, text });
            }
            let y_label =
                figure::FIGURES.iter().find(|(n, _, _)| *n == show).map(|(_, _, d)| d.to_string()).unwrap_or(show);
            Ok(Series { kind: "methods".into(), x_label: "method".into(), y_label, points, marked: None })
        }
        other => Err(Error::invalid("kind", format!("unknown chart kind '{other}'; kinds: rank, methods"))),
    }
}
