//! The page around a rendered lesson: the site's styles, the lesson's script (which loads the calculator's wasm
//! and keeps the figures live), links back to the tools, and print styles for a handout.

use crate::lesson::build::tag::escape;

pub(crate) fn page(title: &str, body: &str, root: &str) -> String {
    let root = escape(root);
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta http-equiv="Content-Security-Policy" content="script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'self'">
  <title>{title} · LoRA Playground</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{root}web/style.css">
  <link rel="stylesheet" href="{root}web/lesson/lesson.css">
  <script type="module" src="{root}web/lesson/lesson.js"></script>
</head>
<body class="lesson">
  <nav class="lesson-nav" aria-label="LoRA Playground"><a href="{root}lessons/index.html">Lessons</a> · <a href="{root}index.html">Calculator</a> · <a href="{root}train.html">Train</a> · <a href="{root}lm.html">Language models</a></nav>
  <main class="lesson-body">
{body}
  </main>
  <footer class="lesson-foot"><p>Every figure on this page is computed by LoRA Playground's calculator (the counts Hugging Face PEFT prints) as the page loads and whenever a control moves. <span class="lp-status" role="status"></span></p></footer>
</body>
</html>
"#,
        title = escape(title)
    )
}
