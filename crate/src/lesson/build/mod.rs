//! A lesson file (Markdown with `<lp-...>` elements) to a static page: pulldown-cmark renders the Markdown
//! (CommonMark, tables, footnotes); the raw HTML it passes through is read by html5gum, and each of the lesson's own
//! elements is replaced by its markup (`elements.rs`) with its first value computed here, the page's script then
//! keeping it live. Mistakes become a visible message at the element and a warning naming the file's line;
//! nothing else on the page changes.

mod elements;
mod page;
mod tag;

use std::ops::Range;

use html5gum::{DefaultEmitter, Token, Tokenizer};
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::lesson::spec::Spec;
pub use elements::ELEMENTS;
pub use tag::Warning;
use tag::{Context, LpTag, escape};

/// A rendered lesson: the whole page, its title (the first heading) and what was wrong in it.
#[derive(Debug, Clone)]
pub struct Lesson {
    pub title: String,
    pub html: String,
    pub warnings: Vec<Warning>,
}

/// Renders `source` (the lesson's Markdown). `root` is the path from the lesson's page to the site's root (`../`
/// for `lessons/x.html`), where the pages, scripts and wasm are.
pub fn render(source: &str, root: &str) -> Lesson {
    let events: Vec<(Event, Range<usize>)> = Parser::new_ext(source, options()).into_offset_iter().collect();
    let tags = find_tags(&events, source);
    let controls = elements::controls(&tags);
    let mut out = Renderer { cx: Context { warnings: Vec::new(), root, controls, next_id: 0 }, open: Vec::new() };
    let mut rendered: Vec<Event> = Vec::with_capacity(events.len());
    let mut title = String::new();
    let mut in_heading = false;
    let mut depth = 0usize;
    for (i, (event, _)) in events.into_iter().enumerate() {
        match &event {
            Event::Start(Tag::Heading { .. }) if title.is_empty() => in_heading = true,
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Text(t) | Event::Code(t) if in_heading => title.push_str(t),
            _ => {}
        }
        match event {
            Event::Html(text) | Event::InlineHtml(text) if tags.iter().any(|t| t.event == i) => {
                let html = out.splice(&text, tags.iter().filter(|t| t.event == i), rendered.len());
                rendered.push(Event::Html(CowStr::from(html)));
            }
            Event::Start(tag) => {
                depth += usize::from(is_block(&tag));
                rendered.push(Event::Start(tag));
            }
            Event::End(end) => {
                let block = is_block_end(&end);
                if block && depth == 1 {
                    out.close_block(&mut rendered);
                }
                depth -= usize::from(block);
                rendered.push(Event::End(end));
            }
            other => rendered.push(other),
        }
    }
    out.close_block(&mut rendered);
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, rendered.into_iter());
    let title = if title.trim().is_empty() { "Lesson".to_string() } else { title.trim().to_string() };
    let mut warnings = out.cx.warnings;
    warnings.sort_by_key(|w| w.line);
    Lesson { html: page::page(&title, &body, root), title, warnings }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
}

fn is_block(tag: &Tag) -> bool {
    !matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Image { .. }
            | Tag::Superscript
            | Tag::Subscript
    )
}

fn is_block_end(tag: &TagEnd) -> bool {
    !matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Link
            | TagEnd::Image
            | TagEnd::Superscript
            | TagEnd::Subscript
    )
}

/// Every lesson element in the raw HTML the Markdown passes through (never in code: pulldown-cmark keeps code
/// spans and blocks apart, so a lesson can show the elements' syntax).
fn find_tags(events: &[(Event, Range<usize>)], source: &str) -> Vec<LpTag> {
    let lines = LineIndex::new(source);
    let mut out = Vec::new();
    for (i, (event, range)) in events.iter().enumerate() {
        let (Event::Html(text) | Event::InlineHtml(text)) = event else { continue };
        if !text.to_ascii_lowercase().contains("lp-") {
            continue;
        }
        // The event's text sits at `range.start` in the file, except where pulldown-cmark strips a block's indent.
        let at = source[range.clone()].find(text.as_ref()).map_or(range.start, |o| range.start + o);
        for token in Tokenizer::new_with_emitter(text.as_ref(), DefaultEmitter::<usize>::new_with_span()).flatten() {
            let (name, span, end, self_closing, spec) = match token {
                Token::StartTag(t) => {
                    let spec = t
                        .attributes
                        .iter()
                        .map(|(k, v)| {
                            (String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned())
                        })
                        .collect();
                    (String::from_utf8_lossy(&t.name).into_owned(), t.span, false, t.self_closing, Spec(spec))
                }
                Token::EndTag(t) => {
                    (String::from_utf8_lossy(&t.name).into_owned(), t.span, true, false, Spec::default())
                }
                _ => continue,
            };
            if !name.starts_with("lp-") {
                continue;
            }
            let span = span.start..span.end;
            out.push(LpTag { event: i, line: lines.line(at + span.start), span, name, end, self_closing, spec });
        }
    }
    out
}

/// Byte offset to 1-based line.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        Self(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

/// An element opened and not yet closed: where its start went in the output, for the message if it never closes.
struct Open {
    name: String,
    line: usize,
    event: usize,
}

struct Renderer<'a> {
    cx: Context<'a>,
    open: Vec<Open>,
}

impl Renderer<'_> {
    /// The event's text with each lesson tag replaced by its markup.
    fn splice<'t>(&mut self, text: &str, tags: impl Iterator<Item = &'t LpTag>, event: usize) -> String {
        let mut html = String::new();
        let mut last = 0;
        for tag in tags {
            html.push_str(&text[last..tag.span.start.min(text.len())]);
            last = tag.span.end.min(text.len());
            if tag.end {
                match self.open.iter().rposition(|o| o.name == tag.name) {
                    Some(at) => {
                        let open = self.open.remove(at);
                        html.push_str(&elements::end(&open.name));
                    }
                    None => html.push_str(&self.cx.error(
                        tag.line,
                        &tag.name,
                        &format!("</{}> closes nothing: no <{}> is open in this paragraph", tag.name, tag.name),
                    )),
                }
                continue;
            }
            let (markup, container) = elements::start(&mut self.cx, tag);
            html.push_str(&markup);
            if !tag.self_closing {
                self.open.push(Open { name: tag.name.clone(), line: tag.line, event });
            } else if container {
                html.push_str(&elements::end(&tag.name));
            }
        }
        html.push_str(&text[last.min(text.len())..]);
        html
    }

    /// A block ended: what is still open there never closed. Its message goes where it opened; a question's
    /// wrapper is closed here so the rest of the page is untouched.
    fn close_block(&mut self, rendered: &mut Vec<Event>) {
        for open in std::mem::take(&mut self.open) {
            let msg = self.cx.error(
                open.line,
                &open.name,
                &format!("<{}> is not closed: end it with </{}> in the same paragraph", open.name, open.name),
            );
            if let Some(Event::Html(text)) = rendered.get_mut(open.event) {
                *text = CowStr::from(format!("{msg}{text}"));
            }
            rendered.push(Event::Html(CowStr::from(elements::end(&open.name))));
        }
    }
}

/// The lessons' own index page: each lesson's title, linking to its page.
pub fn index(lessons: &[(String, String)], root: &str) -> String {
    let items: String = lessons
        .iter()
        .map(|(file, title)| format!("<li><a href=\"{}\">{}</a></li>\n", escape(file), escape(title)))
        .collect();
    let body = format!(
        "<h1>Lessons</h1>\n<p>Each lesson's figures are computed in the page as you read; move a control and they follow.</p>\n<ul class=\"lesson-list\">\n{items}</ul>\n"
    );
    page::page("Lessons", &body, root)
}
