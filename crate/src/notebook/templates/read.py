# %%
def read_rows(path):
    """The rows of a CSV, TSV or JSON Lines file as {column: value}, read as the page reads them: lines cut at
    "\\n" (a "\\r" before it dropped) and decoded one by one, a line that is not UTF-8 skipped; JSON Lines by the
    name or a first line starting with "{"; TSV by the name or a tab in a first line that has no comma; CSV
    otherwise (RFC 4180 quoting, a quoted field may span lines)."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for raw in data.split(b"\n"):
        try:
            lines.append((raw[:-1] if raw.endswith(b"\r") else raw).decode("utf-8"))
        except UnicodeDecodeError:
            pass  # the page lists such a line as a problem and skips it
    first = next((l for l in lines if l.strip()), "")
    name = path.lower()
    rows = []
    if name.endswith((".jsonl", ".ndjson")) or first.lstrip().startswith("{"):
        for line in lines:
            if line.strip():
                try:
                    value = json.loads(line)
                except ValueError:
                    continue  # the page lists such a row as a problem and skips it
                if isinstance(value, dict):
                    rows.append(value)
        return rows
    sep = "\t" if name.endswith(".tsv") or ("\t" in first and "," not in first) else ","
    header = None
    for record in csv.reader(io.StringIO("\n".join(lines), newline=""), delimiter=sep):
        if not record or len(record) == 1 and not record[0].strip():
            continue
        if header is None:
            header = [h.strip().lower() for h in record]
            continue
        rows.append(dict(zip(header, record)))
    return rows
