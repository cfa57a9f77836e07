//! The lesson's own elements, each checked and turned into its markup: the attributes an element takes, its
//! bindings to controls (`r="@rank"`: the value of the control named `rank`), and its first value computed here
//! (the page's script recomputes it with the calculator's wasm whenever a control it names moves).

use crate::accounting::report::{self, Setup};
use crate::lesson::build::tag::{Context, Controls, LpTag, escape};
use crate::lesson::spec::SETUP_ATTRIBUTES;
use crate::lesson::{answer, series, show};

/// Every element, the attributes of its own (beside the setup's, where it takes them) and what it is.
pub const ELEMENTS: &[(&str, bool, &[&str], &str)] = &[
    ("lp-figure", true, &["show", "method", "module", "format", "digits"], "one figure, computed for its setup"),
    (
        "lp-control",
        false,
        &["name", "kind", "label", "value", "min", "max", "step", "options", "model"],
        "a control figures name with @name: kind=range (default), targets or select",
    ),
    (
        "lp-question",
        true,
        &["show", "method", "module", "tolerance", "hint", "format", "digits"],
        "a question the engine checks: its text between the tags",
    ),
    ("lp-chart", true, &["kind", "show", "max", "format", "digits", "title"], "a small chart: kind=rank or methods"),
    (
        "lp-calculator",
        false,
        &["hash", "hide", "height", "title"],
        "the calculator inline (its link settings in hash=, hidden parts in hide=)",
    ),
    ("lp-trainer", false, &["hash", "hide", "height", "title"], "the training page inline"),
];

const ALIASES: &[&str] = &["lora_alpha", "target_modules"];

/// The markup that ends a container element (a question's wrapper); the others end where they start.
pub(crate) fn end(name: &str) -> String {
    if name == "lp-question" { "</span></span>".into() } else { String::new() }
}

/// Each control's name and starting value, from the whole lesson (a figure may come before its control).
pub(crate) fn controls(tags: &[LpTag]) -> Controls {
    let mut out = Controls::new();
    for t in tags.iter().filter(|t| !t.end && t.name == "lp-control") {
        let Some(name) = t.spec.get("name") else { continue };
        let value = match (t.spec.get("value"), t.spec.get("kind").unwrap_or("range")) {
            (Some(v), _) => v.to_string(),
            (None, "range") => t.spec.get("min").unwrap_or("1").to_string(),
            (None, "targets") => default_targets(t.spec.get("model")).unwrap_or_default(),
            (None, _) => t.spec.get("options").and_then(|o| o.split(',').next()).unwrap_or("").trim().to_string(),
        };
        out.entry(name.to_string()).or_insert(value);
    }
    out
}

fn default_targets(model: Option<&str>) -> Option<String> {
    let setup = Setup { model: model?.to_string(), ..Setup::default() };
    report::describe(&setup).ok()?.default_targets.map(|t| t.join(","))
}

/// The markup for a start tag, and whether the element wraps content (so its end tag closes something).
pub(crate) fn start(r: &mut Context, tag: &LpTag) -> (String, bool) {
    let Some((_, takes_setup, own, _)) = ELEMENTS.iter().find(|(n, ..)| *n == tag.name) else {
        let names: Vec<&str> = ELEMENTS.iter().map(|(n, ..)| *n).collect();
        return (
            r.error(tag.line, &tag.name, &format!("unknown element; lesson elements: {}", names.join(", "))),
            false,
        );
    };
    for key in tag.spec.0.keys() {
        let known = own.contains(&key.as_str())
            || (*takes_setup && (SETUP_ATTRIBUTES.iter().any(|(a, _)| a == key) || ALIASES.contains(&key.as_str())))
            || (tag.name == "lp-figure" && key == "id");
        if !known {
            let mut names: Vec<&str> = own.to_vec();
            if *takes_setup {
                names.extend(SETUP_ATTRIBUTES.iter().map(|(a, _)| *a));
            }
            return (
                r.error(tag.line, &tag.name, &format!("unknown attribute '{key}'; it takes: {}", names.join(", "))),
                false,
            );
        }
    }
    // Bindings: each `@name` must name a control; the build writes the control's starting value in.
    let mut bound = tag.spec.clone();
    let mut depends = Vec::new();
    for (key, value) in bound.0.iter_mut() {
        if let Some(name) = value.trim().strip_prefix('@') {
            match r.controls.get(name) {
                Some(v) => {
                    depends.push(name.to_string());
                    *value = v.clone();
                }
                None => {
                    return (
                        r.error(
                            tag.line,
                            &tag.name,
                            &format!("{key}=\"@{name}\" names no control; add <lp-control name=\"{name}\" ...>"),
                        ),
                        false,
                    );
                }
            }
        }
    }
    depends.sort();
    depends.dedup();
    let data = format!(
        "data-spec=\"{}\" data-depends=\"{}\"",
        escape(&serde_json::to_string(&tag.spec).unwrap_or_default()),
        depends.join(" ")
    );
    let fail = |r: &mut Context, e: crate::error::Error| {
        (r.error(tag.line, &tag.name, &format!("{}: {}", e.field, e.message)), false)
    };
    match tag.name.as_str() {
        "lp-figure" => match show(&bound) {
            Ok(s) => (
                format!(
                    "<span class=\"lp-figure\" data-lp=\"figure\" {data} data-value=\"{}\">{}</span>",
                    s.value,
                    escape(&s.text)
                ),
                false,
            ),
            Err(e) => fail(r, e),
        },
        "lp-question" => {
            if let Err(e) = show(&bound).and_then(|_| answer::tolerance(&bound)) {
                return fail(r, e);
            }
            if tag.self_closing {
                return (
                    r.error(tag.line, &tag.name, "write the question between <lp-question ...> and </lp-question>"),
                    false,
                );
            }
            r.next_id += 1;
            let id = format!("lp-q{}", r.next_id);
            let hint = bound
                .get("hint")
                .map(|h| format!("<span class=\"lp-q-hint\" hidden>Hint: {}</span>", escape(h)))
                .unwrap_or_default();
            (
                format!(
                    "<span class=\"lp-question\" data-lp=\"question\" {data} role=\"group\" aria-labelledby=\"{id}-text\">\
                     <span class=\"lp-q-form\"><label for=\"{id}\">Your answer</label> \
                     <input id=\"{id}\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" spellcheck=\"false\"> \
                     <button type=\"button\" data-lp-check>Check</button> \
                     <button type=\"button\" data-lp-reveal hidden>Show the answer</button>\
                     <span class=\"lp-q-result\" role=\"status\" aria-live=\"polite\"></span>{hint}</span>\
                     <span class=\"lp-q-text\" id=\"{id}-text\">"
                ),
                true,
            )
        }
        "lp-chart" => match series::series(&bound) {
            Ok(s) => {
                let title = bound
                    .get("title")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{} against {}", s.y_label, s.x_label));
                (
                    format!(
                        "<span class=\"lp-chart\" data-lp=\"chart\" {data} data-title=\"{}\"><span class=\"lp-chart-note\">{}: {} points (the chart draws when the page's script runs)</span></span>",
                        escape(&title),
                        escape(&title),
                        s.points.len()
                    ),
                    false,
                )
            }
            Err(e) => fail(r, e),
        },
        "lp-control" => control(r, tag),
        _ => embed(r, tag),
    }
}

fn control(r: &mut Context, tag: &LpTag) -> (String, bool) {
    let s = &tag.spec;
    let Some(name) =
        s.get("name").filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    else {
        return (
            r.error(
                tag.line,
                &tag.name,
                "name=\"...\" is required: letters, digits, - and _ (figures name it as @name)",
            ),
            false,
        );
    };
    let value = r.controls.get(name).cloned().unwrap_or_default();
    let label = escape(s.get("label").unwrap_or(name));
    let id = format!("lp-c-{name}");
    let head = format!("<span class=\"lp-control\" data-lp=\"control\" data-name=\"{}\"", escape(name));
    match s.get("kind").unwrap_or("range") {
        "range" => {
            let num = |k: &str, d: f64| {
                s.get(k).map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite())).unwrap_or(Some(d))
            };
            let (Some(min), Some(max), Some(step), Some(v)) =
                (num("min", 1.0), num("max", 64.0), num("step", 1.0), value.trim().parse::<f64>().ok())
            else {
                return (r.error(tag.line, &tag.name, "min, max, step and value must be numbers"), false);
            };
            if !(min < max && (min..=max).contains(&v) && step > 0.0) {
                return (
                    r.error(
                        tag.line,
                        &tag.name,
                        &format!("needs min < max, step > 0 and min <= value <= max (min {min}, max {max}, value {v})"),
                    ),
                    false,
                );
            }
            (
                format!(
                    "{head} data-kind=\"range\"><label for=\"{id}\">{label}</label> \
                     <input type=\"range\" id=\"{id}\" min=\"{min}\" max=\"{max}\" step=\"{step}\" value=\"{v}\"> \
                     <input type=\"number\" id=\"{id}-num\" aria-label=\"{label} (number)\" min=\"{min}\" max=\"{max}\" step=\"{step}\" value=\"{v}\"></span>"
                ),
                false,
            )
        }
        "targets" => {
            let Some(model) = s.get("model") else {
                return (
                    r.error(tag.line, &tag.name, "kind=\"targets\" needs model=\"...\" (whose modules to offer)"),
                    false,
                );
            };
            let setup = Setup { model: model.to_string(), ..Setup::default() };
            let choices = match report::describe(&setup) {
                Ok(d) => d.target_choices,
                Err(e) => return (r.error(tag.line, &tag.name, &format!("{}: {}", e.field, e.message)), false),
            };
            let on: Vec<&str> = value.split(',').map(str::trim).collect();
            let boxes: String = choices
                .iter()
                .map(|c| {
                    let short = c.name.rsplit('.').next().unwrap_or(&c.name);
                    let checked = if on.iter().any(|t| *t == c.name || *t == short) { " checked" } else { "" };
                    format!(
                        "<label><input type=\"checkbox\" value=\"{}\"{checked}> <code>{}</code></label> ",
                        escape(&c.name),
                        escape(&c.name)
                    )
                })
                .collect();
            (
                format!(
                    "{head} data-kind=\"targets\" role=\"group\" aria-label=\"{label}\"><span class=\"lp-control-label\">{label}</span> {boxes}</span>"
                ),
                false,
            )
        }
        "select" => {
            let Some(options) = s.get("options") else {
                return (r.error(tag.line, &tag.name, "kind=\"select\" needs options=\"a,b,c\""), false);
            };
            let opts: String = options
                .split(',')
                .map(str::trim)
                .map(|o| format!("<option{}>{}</option>", if o == value { " selected" } else { "" }, escape(o)))
                .collect();
            (
                format!(
                    "{head} data-kind=\"select\"><label for=\"{id}\">{label}</label> <select id=\"{id}\">{opts}</select></span>"
                ),
                false,
            )
        }
        other => {
            (r.error(tag.line, &tag.name, &format!("unknown kind '{other}'; kinds: range, targets, select")), false)
        }
    }
}

/// The calculator or the trainer in an iframe, as a course embeds them (docs/COURSES.md), from the site's root.
fn embed(r: &mut Context, tag: &LpTag) -> (String, bool) {
    let s = &tag.spec;
    let (page, default_title) =
        if tag.name == "lp-calculator" { ("index.html", "LoRA calculator") } else { ("train.html", "Train with LoRA") };
    let height = s.get("height").unwrap_or(if page == "index.html" { "700" } else { "1100" });
    if height.parse::<u32>().map_or(true, |h| !(100..=5000).contains(&h)) {
        return (
            r.error(tag.line, &tag.name, &format!("height=\"{height}\" is not a number of pixels from 100 to 5000")),
            false,
        );
    }
    let mut hash: Vec<String> =
        s.get("hash").map(|h| h.trim_start_matches('#').to_string()).into_iter().filter(|h| !h.is_empty()).collect();
    if let Some(hide) = s.get("hide") {
        hash.push(format!("hide={hide}"));
    }
    let src =
        format!("{}{page}{}", r.root, if hash.is_empty() { String::new() } else { format!("#{}", hash.join("&")) });
    (
        format!(
            "<iframe class=\"lp-embed\" data-lp=\"embed\" src=\"{}\" title=\"{}\" height=\"{height}\" loading=\"lazy\"></iframe>",
            escape(&src),
            escape(s.get("title").unwrap_or(default_title))
        ),
        false,
    )
}
