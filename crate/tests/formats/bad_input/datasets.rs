//! Broken datasets, as students' files come: through `data::parse`, what the page's upload and the CLI's `--data` call.

use lora_playground::data::parse;
use lora_playground::rng::Rng;

use super::cases::{Case, Expect, Outcome, case};

fn dataset(name: &'static str, bytes: Vec<u8>) -> impl FnOnce() -> Outcome + Send {
    move || parse(name, &bytes).map(|d| d.problems.iter().map(|p| p.line).collect())
}

/// `n` good rows of two classes, CSV.
fn good_rows(n: usize) -> String {
    (0..n).map(|i| format!("text number {i},{}\n", if i % 2 == 0 { "a" } else { "b" })).collect()
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = if bom { if big_endian { vec![0xfe, 0xff] } else { vec![0xff, 0xfe] } } else { Vec::new() };
    for unit in text.encode_utf16() {
        out.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
    }
    out
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| (rng.uniform(0.0, 256.0) as u32).min(255) as u8).collect()
}

pub fn cases() -> Vec<Case> {
    use Expect::*;
    let csv = |body: &str| format!("text,label\n{body}").into_bytes();
    let good = good_rows(6);
    let mut out = vec![
        case("an empty file", Refused("d.csv"), dataset("d.csv", Vec::new())),
        case("a header only", Refused("d.csv"), dataset("d.csv", csv(""))),
        case("blank lines only", Refused("d.csv"), dataset("d.csv", b"\n\n \n\t\n".to_vec())),
        case("one class", Refused("d.csv"), dataset("d.csv", csv("a,x\nb,x\nc,x\n"))),
        case("every label seen once", Refused("d.csv"), dataset("d.csv", csv("a,x\nb,y\nc,z\n"))),
        case("no label column", Refused("d.csv"), dataset("d.csv", format!("text,category\n{good}").into_bytes())),
        case("no text column", Refused("d.csv"), dataset("d.csv", format!("sentence,label\n{good}").into_bytes())),
        case(
            "a text column twice",
            Refused("d.csv"),
            dataset("d.csv", format!("text,text,label\n{}", "x,y,a\nx,y,b\nx,y,a\nx,y,b\n").into_bytes()),
        ),
        case(
            "a label column twice",
            Refused("d.csv"),
            dataset("d.csv", b"text,label,Label\nx,a,a\ny,b,b\nz,a,a\nw,b,b\n".to_vec()),
        ),
        case("every text empty", Refused("d.csv"), dataset("d.csv", csv(",a\n,b\n,a\n,b\n"))),
        case("every label empty", Refused("d.csv"), dataset("d.csv", csv("x,\ny,\nz,\n"))),
        case(
            "UTF-16 LE with a BOM (Excel's Unicode text)",
            Refused("d.csv"),
            dataset("d.csv", utf16(&format!("text,label\n{good}"), false, true)),
        ),
        case(
            "UTF-16 BE with a BOM",
            Refused("d.csv"),
            dataset("d.csv", utf16(&format!("text,label\n{good}"), true, true)),
        ),
        case(
            "UTF-16 LE without a BOM",
            Refused("d.csv"),
            dataset("d.csv", utf16(&format!("text,label\n{good}"), false, false)),
        ),
        case(
            "UTF-16 JSON Lines",
            Refused("d.jsonl"),
            dataset("d.jsonl", utf16("{\"text\": \"a\", \"label\": \"x\"}\n", false, true)),
        ),
        case("random binary", Refused("d.csv"), dataset("d.csv", random_bytes(4096, 1))),
        case("random binary named .jsonl", Refused("d.jsonl"), dataset("d.jsonl", random_bytes(4096, 2))),
        case(
            "a PNG renamed .csv",
            Refused("d.csv"),
            dataset("d.csv", [&b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..], &random_bytes(512, 3)].concat()),
        ),
        case(
            "a zip renamed .csv",
            Refused("d.csv"),
            dataset("d.csv", [&b"PK\x03\x04\x14\0\0\0"[..], &random_bytes(512, 4)].concat()),
        ),
        case("a NUL byte in a row", Refused("d.csv"), dataset("d.csv", csv("fine,a\nnul\0here,b\nx,a\ny,b\n"))),
        case(
            "Latin-1 throughout",
            Refused("d.csv"),
            dataset("d.csv", b"text,label\ncaf\xe9,a\nna\xefve,b\nd\xe9j\xe0,a\nse\xf1or,b\n".to_vec()),
        ),
        case(
            "one row not UTF-8",
            Skipped(3),
            dataset("d.csv", [&csv("fine,a\n")[..], b"bad \xff byte,b\n", good.as_bytes()].concat()),
        ),
        case("an unclosed quote at the end", Skipped(8), dataset("d.csv", csv(&format!("{good}\"never closed,a\n")))),
        case("a row with too few fields", Skipped(2), dataset("d.csv", csv(&format!("lonely\n{good}")))),
        case("a row with an empty text", Skipped(2), dataset("d.csv", csv(&format!(",a\n{good}")))),
        case("a row with an empty label", Skipped(2), dataset("d.csv", csv(&format!("x,\n{good}")))),
        case("a label seen once among good rows", Skipped(2), dataset("d.csv", csv(&format!("x,lonely\n{good}")))),
        case("a 5 MiB line", Fine, dataset("d.csv", csv(&format!("{},a\n{good}", "word ".repeat(1 << 20))))),
        case("100,000 rows", Fine, dataset("d.csv", csv(&good_rows(100_000)))),
        case(
            "1,000 classes",
            Refused("d.csv"),
            dataset("d.csv", csv(&(0..2000).map(|i| format!("t{i},c{}\n", i % 1000)).collect::<String>())),
        ),
        case(
            "an id column used as label",
            Refused("d.csv"),
            dataset("d.csv", csv(&(0..600).map(|i| format!("t{i},{}\n", i / 2)).collect::<String>())),
        ),
        case(
            "CRLF line ends and a BOM",
            Fine,
            dataset(
                "d.csv",
                [&b"\xef\xbb\xbf"[..], format!("text,label\r\n{}", good.replace('\n', "\r\n")).as_bytes()].concat(),
            ),
        ),
        case(
            "JSON Lines: a line that is not JSON",
            Skipped(1),
            dataset("d.jsonl", format!("not json\n{}", jsonl(6)).into_bytes()),
        ),
        case(
            "JSON Lines: an array, not an object",
            Skipped(1),
            dataset("d.jsonl", format!("[1, 2]\n{}", jsonl(6)).into_bytes()),
        ),
        case(
            "JSON Lines: text is an object",
            Skipped(1),
            dataset("d.jsonl", format!("{{\"text\": {{\"a\": 1}}, \"label\": \"a\"}}\n{}", jsonl(6)).into_bytes()),
        ),
        case(
            "JSON Lines: no label",
            Skipped(1),
            dataset("d.jsonl", format!("{{\"text\": \"x\"}}\n{}", jsonl(6)).into_bytes()),
        ),
        case(
            "JSON Lines: nesting 10,000 deep",
            Skipped(1),
            dataset("d.jsonl", format!("{}{}\n{}", "[".repeat(10_000), "]".repeat(10_000), jsonl(6)).into_bytes()),
        ),
        case(
            "JSON Lines: a truncated last line",
            Skipped(7),
            dataset("d.jsonl", format!("{}{{\"text\": \"cut", jsonl(6)).into_bytes()),
        ),
        case("JSON Lines: every line broken", Refused("d.jsonl"), dataset("d.jsonl", b"{\n{\n{\n".to_vec())),
        case("a .jsonl file that holds CSV", Refused("d.jsonl"), dataset("d.jsonl", csv(&good))),
        case("a .tsv file that holds CSV", Refused("d.tsv"), dataset("d.tsv", csv(&good))),
        case("a .csv file that holds JSON Lines", Fine, dataset("d.csv", jsonl(6).into_bytes())),
        case(
            "a .txt file that holds TSV",
            Fine,
            dataset("d.txt", format!("text\tlabel\n{}", good.replace(',', "\t")).into_bytes()),
        ),
        case(
            "quotes, separators and newlines in fields",
            Fine,
            dataset("d.csv", csv(&format!("\"a, b\"\"c\"\"\nd\",a\n{good}"))),
        ),
    ];
    // A header row damaged in each of its bytes' places: the file must be refused or read, never panic.
    for cut in [1, 3, 5, 9, 11] {
        let bytes = csv(&good)[..cut].to_vec();
        out.push(case(format!("a file cut after {cut} bytes"), Refused("d.csv"), dataset("d.csv", bytes)));
    }
    out
}

fn jsonl(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"text\": \"text {i}\", \"label\": \"{}\"}}\n", if i % 2 == 0 { "a" } else { "b" }))
        .collect()
}
