//! Lessons (issue 28): the ready lesson builds without a warning and every figure in it is the calculator's; a
//! lesson with mistakes shows each at its element, warns with its line, and leaves the rest of the page as it was.

use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::accounting::report::{self, Setup};
use lora_playground::lesson::build::render;

const READY: &str = include_str!("../../../lessons/lora-basics.md");

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

#[test]
fn the_ready_lesson_builds_clean_and_its_figures_are_the_calculators() {
    let lesson = render(READY, "../");
    assert_eq!(lesson.warnings, vec![], "the ready lesson has no mistakes");
    assert_eq!(lesson.title, "LoRA basics: what fine-tuning costs, and what LoRA saves");
    let figures: Vec<&str> = lesson.html.split("<span class=\"lp-figure\"").skip(1).collect();
    assert!(figures.len() > 40, "{} figures", figures.len());
    // One figure checked by hand against the report, independently of the lesson's own reading of it: the LoRA
    // trainable count at the lesson's starting rank (8) and targets (Wqkv,Wo).
    let setup = Setup {
        model: "ModernBERT-base".into(),
        lora: lora_playground::accounting::lora_config::LoraConfig {
            target_modules: Some(TargetModules::parse_list("Wqkv,Wo")),
            ..Default::default()
        },
        ..Setup::default()
    };
    let rep = report::compute(&setup).unwrap();
    let bound = figures
        .iter()
        .find(|f| f.contains("&quot;r&quot;:&quot;@rank&quot;") && f.contains("&quot;show&quot;:&quot;trainable&quot;"))
        .expect("the LoRA row bound to the rank");
    assert_eq!(attr(bound, "data-value"), Some(rep.trainable.to_string().as_str()));
    assert_eq!(attr(bound, "data-depends"), Some("rank targets"));
    assert!(bound.contains(&format!(">{}<", report::grouped(rep.trainable))));
}

const MISTAKES: &str = "# Mistakes\n\
\n\
Good: <lp-figure model=\"bert-base-uncased\" show=\"trainable\"></lp-figure>.\n\
\n\
Unknown model: <lp-figure model=\"bert-huge\" show=\"trainable\"></lp-figure>.\n\
\n\
Unknown figure: <lp-figure model=\"bert-base-uncased\" show=\"trainabel\"></lp-figure>.\n\
\n\
Bad attribute: <lp-figure model=\"bert-base-uncased\" show=\"trainable\" rank=\"8\"></lp-figure>.\n\
\n\
Unclosed: <lp-question model=\"bert-base-uncased\" show=\"trainable\">How many?\n\
\n\
After the unclosed one: a paragraph of its own.\n\
\n\
Unknown element: <lp-slider name=\"x\"></lp-slider> and a binding to nothing <lp-figure model=\"gpt2\" r=\"@nope\" show=\"trainable\"></lp-figure>.\n\
\n\
In code, untouched: `<lp-figure show=\"oops\">`\n\
\n\
```html\n\
<lp-figure model=\"nothing\"></lp-figure>\n\
```\n";

#[test]
fn mistakes_show_at_their_element_and_warn_with_their_line() {
    let lesson = render(MISTAKES, "../");
    let lines: Vec<usize> = lesson.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, vec![5, 7, 9, 11, 15, 15], "{:#?}", lesson.warnings);
    let said: Vec<&str> = lesson.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(said[0].contains("unknown preset 'bert-huge'"), "{}", said[0]);
    assert!(said[1].contains("unknown figure 'trainabel'"), "{}", said[1]);
    assert!(said[2].contains("unknown attribute 'rank'"), "{}", said[2]);
    assert!(said[3].contains("<lp-question> is not closed"), "{}", said[3]);
    assert!(said[4].contains("unknown element"), "{}", said[4]);
    assert!(said[5].contains("names no control"), "{}", said[5]);
    // Each mistake is a visible message in the page, naming its line.
    let html = &lesson.html;
    for line in &lines {
        assert!(html.contains(&format!("data-lp-error=\"{line}\"")), "line {line}");
    }
    // The good figure is there; the paragraph after the unclosed question is a paragraph of the page, not inside it.
    let good = report::compute(&Setup { model: "bert-base-uncased".into(), ..Setup::default() }).unwrap();
    assert!(html.contains(&format!(">{}</span>", report::grouped(good.trainable))));
    let after = html.find("<p>After the unclosed one").expect("its own paragraph");
    let question = html.find("class=\"lp-question\"").unwrap();
    let closes = question + html[question..].find("</span></span>").expect("the question is closed for it");
    assert!(closes < after);
    // Code keeps the syntax as text.
    assert!(html.contains("<code>&lt;lp-figure show="), "{html}");
    assert!(html.contains("&lt;lp-figure model="));
    assert_eq!(html.matches("class=\"lp-error\"").count(), lines.len(), "one message per mistake, none from code");
}

#[test]
fn controls_bind_figures_and_questions_keep_their_answer_out_of_the_page() {
    let src = "<lp-control name=\"rank\" min=\"1\" max=\"32\" value=\"4\"></lp-control>\n\n\
               A <lp-figure model=\"gpt2\" r=\"@rank\" show=\"lora_params\"></lp-figure>, B <lp-figure model=\"gpt2\" show=\"lora_params\"></lp-figure>.\n\n\
               <lp-question model=\"gpt2\" r=\"16\" show=\"trainable\" tolerance=\"1%\">How many?</lp-question>\n";
    let lesson = render(src, "../");
    assert_eq!(lesson.warnings, vec![]);
    let at = |r: u64| {
        let mut s = Setup { model: "gpt2".into(), ..Setup::default() };
        s.lora.r = r;
        report::compute(&s).unwrap()
    };
    // The bound figure is written with the control's starting value (4), the other with the default rank (8).
    assert!(lesson.html.contains(&format!("data-depends=\"rank\" data-value=\"{}\"", at(4).lora_params)));
    assert!(lesson.html.contains(&format!("data-depends=\"\" data-value=\"{}\"", at(8).lora_params)));
    // The question's answer is computed in the page when asked, not written into it.
    assert!(!lesson.html.contains(&at(16).trainable.to_string()));
    assert!(!lesson.html.contains(&report::grouped(at(16).trainable)));
}

#[test]
fn a_figure_shows_the_activations_with_gradient_checkpointing() {
    let lesson = render(
        "# Memory\n\n\
         Plain: <lp-figure model=\"gemma-3-270m\" batch=\"4\" seq=\"128\" show=\"activations\" format=\"exact\"></lp-figure>.\n\n\
         Checkpointed: <lp-figure model=\"gemma-3-270m\" batch=\"4\" seq=\"128\" gradient-checkpointing show=\"activations\" format=\"exact\"></lp-figure>.\n\n\
         Bad: <lp-figure model=\"gemma-3-270m\" gradient-checkpointing=\"yes\" show=\"activations\"></lp-figure>.\n",
        "../",
    );
    let values: Vec<&str> =
        lesson.html.split("<span class=\"lp-figure\"").skip(1).filter_map(|f| attr(f, "data-value")).collect();
    let want = |on: bool| {
        let mut setup = Setup { model: "gemma-3-270m".into(), ..Setup::default() };
        setup.batch.batch_size = 4;
        setup.batch.seq_len = 128;
        setup.batch.gradient_checkpointing = on;
        report::compute(&setup).unwrap().memory.activations.to_string()
    };
    assert_eq!(values[..2], [want(false).as_str(), want(true).as_str()]);
    assert_ne!(want(false), want(true));
    assert_eq!(lesson.warnings.len(), 1, "{:?}", lesson.warnings);
    assert!(lesson.warnings[0].message.contains("gradient-checkpointing"), "{:?}", lesson.warnings);
}
