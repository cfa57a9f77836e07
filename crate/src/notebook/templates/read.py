# %%
def read_rows(path):
    """The rows of a CSV, TSV or JSON Lines file as (line, {column: value}), read as the page reads them:
    JSON Lines by the name or a first line starting with "{"; TSV by the name or a tab in a first line that has
    no comma; CSV otherwise (RFC 4180 quoting)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    lines = text.splitlines()
    first = next((l for l in lines if l.strip()), "")
    name = path.lower()
    rows = []
    if name.endswith((".jsonl", ".ndjson")) or first.lstrip().startswith("{"):
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    value = json.loads(line)
                except ValueError:
                    continue  # the page lists such a row as a problem and skips it
                if isinstance(value, dict):
                    rows.append((number, value))
        return rows
    sep = "\t" if name.endswith(".tsv") or ("\t" in first and "," not in first) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = None
    for record in reader:
        if len(record) == 1 and not record[0].strip() or not record:
            continue
        if header is None:
            header = [h.strip().lower() for h in record]
            continue
        rows.append((reader.line_num, dict(zip(header, record))))
    return rows
