#!/usr/bin/python3
# Copyright streamml authors. Licensed under the Apache License 2.0.
"""Rewrites the measured tables of BENCHMARKS.md from the outputs of
scripts/bench.sh.

Input: a directory holding, per benchmark binary and run, either
<bench>.<run>.txt (plain benchmarks printing `RESULT <name> key=value ...`
lines) or <bench>.<run>.json (Google Benchmark, --benchmark_format=json).
Numeric values are reduced to their median over the runs; other values
(verdicts, units) to their most common value. The part of BENCHMARKS.md
between `<!-- bench:begin -->` and `<!-- bench:end -->` is replaced; the
prose around it is kept.

Usage: report.py RESULTS_DIR BENCHMARKS_MD --command CMD
"""
import argparse
import collections
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
RESULT_RE = re.compile(r"^RESULT\s+(\S+)\s*(.*)$")


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def fmt(value):
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}".replace(",", " ") if abs(value) >= 10000 else str(int(value))
        if abs(value) >= 100:
            return f"{value:,.0f}".replace(",", " ")
        return f"{value:.3g}"
    return str(value)


def reduce(values):
    nums = [number(v) for v in values]
    if all(n is not None for n in nums):
        return statistics.median(nums)
    counts = collections.Counter(values).most_common()
    if len(counts) == 1:
        return counts[0][0]
    return ", ".join(f"{v} ({n} of {len(values)})" for v, n in counts)


def parse_runs(results_dir):
    """Returns ({bench: runs}, {result name: {key: [values]}}, {bench: {gbench name: {metric: [values]}}})."""
    plain = collections.defaultdict(lambda: collections.defaultdict(list))
    gbench = collections.defaultdict(lambda: collections.defaultdict(lambda: collections.defaultdict(list)))
    runs = collections.Counter()
    failures = []
    for entry in sorted(os.listdir(results_dir)):
        path = os.path.join(results_dir, entry)
        m = re.match(r"^(.+)\.(\d+)\.(txt|json)$", entry)
        if not m:
            if entry.endswith(".failed"):
                failures.append(entry[: -len(".failed")])
            continue
        bench, _, kind = m.groups()
        runs[bench] += 1
        if kind == "txt":
            with open(path, errors="replace") as f:
                for line in f:
                    r = RESULT_RE.match(line.strip())
                    if not r:
                        continue
                    name, rest = r.groups()
                    for pair in rest.split():
                        if "=" in pair:
                            key, value = pair.split("=", 1)
                            plain[name][key].append(value)
        else:
            try:
                with open(path) as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                print(f"report.py: cannot read {path}: {e}", file=sys.stderr)
                continue
            for b in doc.get("benchmarks", []):
                if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                    continue
                metrics = gbench[bench][b["name"]]
                metrics["real_time"].append(float(b["real_time"]))
                metrics["cpu_time"].append(float(b["cpu_time"]))
                metrics["time_unit"].append(b.get("time_unit", "ns"))
                for key in ("items_per_second", "bytes_per_second"):
                    if key in b:
                        metrics[key].append(float(b[key]))
                for key, value in b.items():  # user counters
                    if key not in metrics and isinstance(value, (int, float)) and key not in (
                            "iterations", "cpu_time", "real_time", "repetitions", "repetition_index",
                            "threads", "family_index", "per_family_instance_index"):
                        metrics[key].append(float(value))
    return runs, plain, gbench, failures


def machine():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    nproc = os.cpu_count()
    try:
        nproc = int(subprocess.check_output(["nproc"], text=True).strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        pass
    return f"{nproc} CPUs ({cpu}), {mem} RAM, {platform.system()} {platform.release()}"


def render(runs, plain, gbench, failures, command):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [BEGIN, "",
           f"- Machine: {machine()}",
           f"- Date: {now}",
           f"- Command: `{command}`",
           "- Figures are medians over the runs listed per benchmark binary "
           "(" + ", ".join(f"{b}: {n}" for b, n in sorted(runs.items())) + ").", ""]
    if failures:
        out += ["**Failed (no figures):** " + ", ".join(sorted(failures)), ""]
    for name in sorted(plain):
        keys = plain[name]
        out += [f"### {name}", "", "| metric | median |", "|---|---|"]
        for key, values in keys.items():
            out.append(f"| {key} | {fmt(reduce(values))} |")
        out.append("")
    for bench in sorted(gbench):
        out += [f"### {bench} (Google Benchmark)", "",
                "| benchmark | CPU time / iteration | wall time / iteration | items/s (CPU) | bytes/s (CPU) |",
                "|---|---|---|---|---|"]
        for name, metrics in gbench[bench].items():
            unit = collections.Counter(metrics["time_unit"]).most_common(1)[0][0]
            t = fmt(reduce(metrics["real_time"]))
            c = fmt(reduce(metrics["cpu_time"]))
            items = fmt(reduce(metrics["items_per_second"])) if metrics.get("items_per_second") else ""
            byts = ""
            if metrics.get("bytes_per_second"):
                byts = f"{reduce(metrics['bytes_per_second']) / 1e6:.1f} MB/s"
            out.append(f"| {name} | {c} {unit} | {t} {unit} | {items} | {byts} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir")
    parser.add_argument("benchmarks_md")
    parser.add_argument("--command", required=True, help="the command that produced the results")
    args = parser.parse_args()
    runs, plain, gbench, failures = parse_runs(args.results_dir)
    if not runs and not failures:
        print(f"report.py: no results in {args.results_dir}", file=sys.stderr)
        return 1
    table = render(runs, plain, gbench, failures, args.command)
    try:
        with open(args.benchmarks_md) as f:
            text = f.read()
    except FileNotFoundError:
        text = f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + table + tail
    else:
        text = text.rstrip("\n") + "\n\n## Measured\n\n" + table + "\n"
    with open(args.benchmarks_md, "w") as f:
        f.write(text)
    print(f"report.py: wrote {args.benchmarks_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
