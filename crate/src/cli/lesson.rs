//! `lesson build [SRC] [--out DIR] [--strict]`: every `*.md` lesson in SRC (default `lessons/`) rendered to a page
//! in DIR (default: SRC itself), with `index.html` listing them; given `.md` files instead of a folder, just those
//! pages (no index: an author trying one lesson). Mistakes are warnings naming the file and line
//! (`lessons/x.md:12: ...`) and a visible message in the page; `--strict` makes them fail the build.

use std::path::{Path, PathBuf};

use lora_playground::lesson::build::{index, render};

const USAGE: &str = "usage: lora-playground lesson build [SRC_DIR | FILE.md ...] [--out DIR] [--strict]   (renders SRC_DIR/*.md, default lessons/)";

pub fn run(args: &[String]) -> i32 {
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return 2;
    };
    if cmd != "build" {
        eprintln!("error: unknown lesson command '{cmd}'\n{USAGE}");
        return 2;
    }
    let (mut sources, mut out, mut strict) = (Vec::new(), None, false);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => match it.next() {
                Some(d) => out = Some(PathBuf::from(d)),
                None => {
                    eprintln!("error: --out needs a folder\n{USAGE}");
                    return 2;
                }
            },
            "--strict" => strict = true,
            s if s.starts_with('-') => {
                eprintln!("error: unknown flag '{s}'\n{USAGE}");
                return 2;
            }
            s => sources.push(PathBuf::from(s)),
        }
    }
    let files_given = !sources.is_empty() && sources.iter().all(|s| s.extension().is_some_and(|x| x == "md"));
    let result = match sources.as_slice() {
        [] => build(Path::new("lessons"), out.as_deref().unwrap_or(Path::new("lessons"))),
        [dir] if !files_given => build(dir, out.as_deref().unwrap_or(dir)),
        _ if files_given => match out.as_deref() {
            Some(out) => render_files(&sources, out).map(|(n, w, _)| (n, w)),
            None => Err("--out DIR is needed with single files".into()),
        },
        _ => Err("give one folder or one or more .md files".into()),
    };
    match result {
        Ok((pages, warnings)) => {
            let out = out.as_deref().or(sources.first().map(PathBuf::as_path)).unwrap_or(Path::new("lessons"));
            eprintln!("lessons: {pages} page(s) in {}, {warnings} warning(s)", out.display());
            if strict && warnings > 0 { 1 } else { 0 }
        }
        Err(m) => {
            eprintln!("error: {m}");
            1
        }
    }
}

fn build(src: &Path, out: &Path) -> Result<(usize, usize), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)
        .map_err(|e| format!("{}: {e}", src.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let (pages, warnings, listed) = render_files(&files, out)?;
    let target = out.join("index.html");
    std::fs::write(&target, index(&listed, "../")).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok((pages, warnings))
}

/// Pages written, warnings, and each page's (file name, title).
type Rendered = (usize, usize, Vec<(String, String)>);

/// Each file to `out/NAME.html`; its warnings printed as `file:line: message`. Returns the pages, the warnings and
/// each page's (file name, title).
fn render_files(files: &[PathBuf], out: &Path) -> Result<Rendered, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut listed = Vec::new();
    let mut warnings = 0;
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let lesson = render(&text, "../");
        for w in &lesson.warnings {
            eprintln!("{}:{}: {}", file.display(), w.line, w.message);
        }
        warnings += lesson.warnings.len();
        let name = format!("{}.html", file.file_stem().and_then(|s| s.to_str()).unwrap_or("lesson"));
        let target = out.join(&name);
        std::fs::write(&target, lesson.html).map_err(|e| format!("{}: {e}", target.display()))?;
        listed.push((name, lesson.title));
    }
    Ok((files.len(), warnings, listed))
}
