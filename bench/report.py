#!/usr/bin/env python3
"""Turns proact_bench's Google Benchmark JSON into readable results.

    bench/report.py build-release/bench.json [--out-dir DIR]

Writes, next to the JSON unless --out-dir says otherwise:
  bench-results.md   a Markdown table: every workload, every implementation,
                     each proact figure with its ratio to the floor and to Asio,
                     then the issue's targets with PASS/MISS
  bench-results.txt  the same as plain text (also printed)
  bench.svg          the chart (bench/chart.py): one panel per workload, a bar
                     per implementation with its value, proact's with their
                     ratios to the floor and to Asio (--chart-format png:
                     bench.png, through rsvg-convert, Debian librsvg2-bin)
Only the Python standard library is needed.

Benchmark names are <workload>/<impl>[/<param>:<value>...] (bench/harness.hpp);
Google Benchmark appends /real_time, /iterations:N and, with repetitions,
_mean/_median/_stddev. With repetitions the median is used.
"""

import argparse
import json
import math
import os
import platform
import sys

# Implementations in display order; unknown ones (e.g. proact's loop,
# "proact-loop-epoll") go after them in order of appearance.
KNOWN_IMPLS = [
    "proact-epoll",
    "proact-io_uring",
    "floor-epoll",
    "floor-io_uring",
    "floor-io_uring-tuned",
    "asio",
    "libuv",
]
# The floor each proact backend is compared with. Any implementation whose
# name starts with "proact" and ends with a backend uses that backend's floor.
FLOORS = {"epoll": "floor-epoll", "io_uring": "floor-io_uring"}
NETWORKING = ("pingpong", "accept", "udp_pingpong")
MEMORY = ("idle_memory",)
# Below this many allocations per operation, a run's allocations are one-off
# growth (a vector reaching its size in the first iterations), not steady state.
STEADY_ALLOCS = 1e-3
TOLERANCE = 0.10  # "within 10%"


def backend_of(impl):
    for backend in FLOORS:
        if impl.endswith(backend):
            return backend
    return None


def is_proact(impl):
    return impl.startswith("proact")


def parse_name(name):
    """'pingpong/asio/conns:1/size:64/real_time' -> ('pingpong', 'asio', 'conns:1/size:64')."""
    parts = [
        p
        for p in name.split("/")
        if p != "real_time" and not p.startswith("iterations:") and not p.startswith("min_time:")
    ]
    if len(parts) < 2:
        return None
    return parts[0], parts[1], "/".join(parts[2:])


def load(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    results = {}  # (workload, params) -> impl -> benchmark dict
    order = []  # groups in order of first appearance
    benchmarks = data.get("benchmarks", [])
    # Registration order (--benchmark_enable_random_interleaving writes the
    # results in the order they ran).
    if all("family_index" in b for b in benchmarks):
        benchmarks = sorted(
            benchmarks, key=lambda b: (b["family_index"], b.get("per_family_instance_index", 0))
        )
    use_median = any(b.get("aggregate_name") == "median" for b in benchmarks)
    for b in benchmarks:
        if use_median:
            if b.get("aggregate_name") != "median":
                continue
            name = b.get("run_name", b["name"])
        else:
            if b.get("run_type") == "aggregate":
                continue
            name = b.get("run_name", b["name"])
        parsed = parse_name(name)
        if parsed is None:
            continue
        workload, impl, params = parsed
        group = (workload, params)
        if group not in results:
            results[group] = {}
            order.append(group)
        results[group][impl] = b
    return data.get("context", {}), results, order


def throughput(b):
    """Items per second, or None for a failed or memory-only benchmark."""
    if b is None or b.get("error_occurred"):
        return None
    v = b.get("items_per_second")
    return float(v) if v else None


def memory(b):
    if b is None or b.get("error_occurred"):
        return None
    v = b.get("rss_bytes/conn")
    return float(v) if v is not None else None


def si(v, unit=""):
    if v is None:
        return "-"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= factor:
            return f"{v / factor:.3g} {suffix}{unit}"
    return f"{v:.3g} {unit}".rstrip()


def per_item(v):
    if not v:
        return "-"
    s = 1.0 / v
    for factor, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if s >= factor:
            return f"{s / factor:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def impl_order(results):
    seen = []
    for group in results.values():
        for impl in group:
            if impl not in seen:
                seen.append(impl)
    known = [i for i in KNOWN_IMPLS if i in seen]
    return known + [i for i in seen if i not in KNOWN_IMPLS]


def group_label(group):
    workload, params = group
    return workload + ("/" + params if params else "")


def rows_for(group, impls):
    """Rows of one group: [impl, figure, per item, allocs/op, vs floor, vs asio, notes]."""
    workload, _ = group
    rows = []
    is_memory = workload in MEMORY
    for impl, b in impls.items():
        if b.get("error_occurred"):
            rows.append([impl, "error", "", "", "", "", b.get("error_message", "")])
            continue
        notes = []
        if is_memory:
            value = memory(b)
            figure = f"{value:.0f} B/conn" if value is not None else "-"
            heap = b.get("heap_bytes/conn")
            if heap is not None:
                notes.append(f"heap {heap:.0f} B/conn")
            item = ""
        else:
            value = throughput(b)
            figure = si(value, "/s")
            item = per_item(value)
            if "p50_us" in b:
                notes.append(
                    f"p50 {b['p50_us']:.1f} µs, p99 {b['p99_us']:.1f} µs, "
                    f"p99.9 {b['p999_us']:.1f} µs"
                )
            if b.get("bytes_per_second"):
                notes.append(si(b["bytes_per_second"], "B/s"))
        allocs = b.get("allocs/op")
        allocs_s = "" if allocs is None else (f"{allocs:.3g}" if allocs else "0")
        vs_floor = vs_asio = ""
        if is_proact(impl):
            floor = FLOORS.get(backend_of(impl) or "")
            get = memory if is_memory else throughput
            # Throughput: proact / other (above 1 = proact faster). Memory:
            # proact / other (below 1 = proact smaller).
            vs_floor = fmt_ratio(ratio(value, get(impls.get(floor)))) if floor else "-"
            vs_asio = fmt_ratio(ratio(value, get(impls.get("asio"))))
        rows.append([impl, figure, item, allocs_s, vs_floor, vs_asio, "; ".join(notes)])
    return rows


HEADER = ["implementation", "throughput", "per item", "allocs/op", "vs floor", "vs asio", "notes"]


def summary_matrix(results, order, impls):
    """One row per workload: each implementation's figure, then each proact
    implementation's ratios to its floor and to Asio."""
    proact = [i for i in impls if is_proact(i)]
    header = ["workload"] + impls
    for p in proact:
        header += [f"{p} vs floor", f"{p} vs asio"]
    rows = []
    for g in order:
        impls_in = results[g]
        is_memory = g[0] in MEMORY
        get = memory if is_memory else throughput
        row = [group_label(g)]
        for i in impls:
            b = impls_in.get(i)
            v = get(b) if b is not None else None
            if b is not None and b.get("error_occurred"):
                row.append("error")
            elif is_memory:
                row.append("-" if v is None else f"{v:.0f} B")
            else:
                row.append(si(v, "/s"))
        for p in proact:
            v = get(impls_in.get(p))
            floor = FLOORS.get(backend_of(p) or "")
            row.append(fmt_ratio(ratio(v, get(impls_in.get(floor)))) if floor else "-")
            row.append(fmt_ratio(ratio(v, get(impls_in.get("asio")))))
        rows.append(row)
    return header, rows


def check_targets(results):
    """[(target, PASS|MISS|n/a, details)]"""
    targets = []

    def collect(pred_groups, impl, other, factor, what):
        misses, checked = [], 0
        for group in pred_groups:
            impls = results[group]
            a, b = throughput(impls.get(impl)), throughput(impls.get(other))
            if a is None or b is None:
                continue
            checked += 1
            r = a / b
            if r < factor:
                misses.append(f"{group_label(group)}: {r:.2f}x")
        if checked == 0:
            return ("n/a", f"no {impl} and {other} results to compare")
        if misses:
            return ("MISS", f"{len(misses)} of {checked} below {factor:.2f}x {what}: " + ", ".join(misses))
        return ("PASS", f"all {checked} at or above {factor:.2f}x {what}")

    def collect_memory(groups, impl, other, factor, what):
        """Memory: impl's bytes per connection at most factor times other's."""
        misses, checked = [], 0
        for group in groups:
            a, b = memory(results[group].get(impl)), memory(results[group].get(other))
            if a is None or not b:
                continue
            checked += 1
            if a / b > factor:
                misses.append(f"{group_label(group)}: {a / b:.2f}x ({a:.0f} B against {b:.0f} B)")
        if checked == 0:
            return ("n/a", f"no {impl} and {other} results to compare")
        if misses:
            return ("MISS", f"{len(misses)} of {checked} above {factor:.2f}x {what}: " + ", ".join(misses))
        return ("PASS", f"all {checked} at or below {factor:.2f}x {what}")

    net = [g for g in results if g[0] in NETWORKING]
    status, detail = collect(net, "proact-epoll", "floor-epoll", 0.95, "the epoll floor")
    targets.append(("epoll backend >= 0.95x the hand-written epoll loop on every networking benchmark", status, detail))
    status, detail = collect(net, "proact-epoll", "asio", 1.1, "Asio")
    targets.append(("epoll backend >= 1.1x Asio on every networking benchmark", status, detail))
    many = [
        g
        for g in results
        if g[0] == "pingpong" and ({"conns:100", "conns:1000"} & set(g[1].split("/")))
    ]
    status, detail = collect(many, "proact-io_uring", "floor-epoll", 1.2, "the epoll floor")
    targets.append(("io_uring backend >= 1.2x the hand-written epoll loop, ping-pong at 100 and 1,000 connections", status, detail))
    status, detail = collect(net, "proact-io_uring", "floor-io_uring", 1.0, "the io_uring floor")
    targets.append(("io_uring backend >= 1.0x the hand-written io_uring loop on every networking benchmark", status, detail))
    tls = [g for g in results if g[0] == "tls_pingpong"]
    for impl in ("proact-loop-epoll", "proact-loop-io_uring"):
        status, detail = collect(tls, impl, "asio", 1.0, "Asio's ssl::stream")
        targets.append((f"{impl}: TLS ping-pong >= Asio's ssl::stream", status, detail))
    one = [g for g in results if g == ("post_wait", "threads:1")]
    for impl in ("proact-epoll", "proact-io_uring"):
        status, detail = collect(one, impl, "asio", 2.0, "Asio's post + run_one")
        targets.append((f"{impl}: post + wait >= 2x Asio's post + run_one, one thread", status, detail))
    two = [g for g in results if g[0] == "post_wait_threads" and "threads:2" in g[1].split("/")]
    for impl in ("proact-epoll", "proact-io_uring"):
        status, detail = collect(two, impl, "asio", 1.0, "Asio, 2 threads on one io_context")
        targets.append((f"{impl}: post + wait, 2 threads on one port >= Asio's 2 threads on one io_context", status, detail))
    timers = [g for g in results if g[0] == "timers"]
    for backend, floor in FLOORS.items():
        status, detail = collect(timers, f"proact-loop-{backend}", floor, 0.8, f"the {backend} floor")
        targets.append((f"proact-loop-{backend}: timers >= 0.8x the hand-written {backend} loop", status, detail))
    idle = [g for g in results if g[0] in MEMORY]
    for backend, floor in FLOORS.items():
        status, detail = collect_memory(idle, f"proact-{backend}", floor, 2.0, f"the {backend} floor")
        targets.append((f"proact-{backend}: idle memory per connection <= 2x the hand-written {backend} loop", status, detail))

    over, checked, tiny = [], 0, []
    for group, impls in results.items():
        for impl, b in impls.items():
            if not is_proact(impl) or b.get("error_occurred") or "allocs/op" not in b:
                continue
            checked += 1
            a = float(b["allocs/op"])
            if a >= STEADY_ALLOCS:
                over.append(f"{group_label(group)} {impl}: {a:.3g}")
            elif a > 0:
                tiny.append(f"{group_label(group)} {impl}: {a:.2g}")
    note = f" (one-off growth below {STEADY_ALLOCS:g}/op, not steady state: " + ", ".join(tiny) + ")" if tiny else ""
    if checked == 0:
        targets.append(("0 heap allocations per operation (proact)", "n/a", "no proact results"))
    elif over:
        targets.append(
            ("0 heap allocations per operation (proact)", "MISS", f"{len(over)} of {checked}: " + ", ".join(over) + note)
        )
    else:
        targets.append(("0 heap allocations per operation (proact)", "PASS", f"all {checked}{note}"))
    return targets


def machine_lines(context):
    lines = []
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cpus = context.get("num_cpus", os.cpu_count())
    mhz = context.get("mhz_per_cpu")
    lines.append(f"CPU: {cpu or 'unknown'}, {cpus} cores" + (f" at {mhz} MHz" if mhz else ""))
    lines.append(f"Kernel: {platform.system()} {platform.release()}")
    load = context.get("load_avg")
    if load:
        lines.append("Load average at start: " + ", ".join(f"{x:.2f}" for x in load))
    pinned = context.get("pinned_cpu")
    if pinned:
        if pinned[0].isdigit():
            lines.append(f"Single-threaded workloads pinned to CPU {pinned} (PROACT_BENCH_CPU); "
                         "file reads and the threads:N workloads not pinned")
        else:
            lines.append(f"Single-threaded workloads not pinned: {pinned}")
    if context.get("date"):
        lines.append(f"Date: {context['date']}")
    if context.get("library_build_type") == "debug":
        lines.append("(Google Benchmark itself is Debian's debug build; proact and the peers are Release.)")
    return lines


def text_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return out


def md_escape(s):
    return str(s).replace("|", "\\|")


def chart_panels(results, order, impls):
    """The chart's panels: per workload, each implementation's value and label."""
    panels = []
    for g in order:
        is_memory = g[0] in MEMORY
        get = memory if is_memory else throughput
        bars = []
        for impl in impls:
            b = results[g].get(impl)
            if b is None:
                continue
            value = get(b)
            if value is None:
                bars.append((impl, None, "error" if b.get("error_occurred") else "-"))
                continue
            label = f"{value:.0f} B/conn" if is_memory else si(value, "/s")
            if is_proact(impl):
                floor = FLOORS.get(backend_of(impl) or "")
                extra = []
                r = ratio(value, get(results[g].get(floor))) if floor else None
                if r is not None:
                    extra.append(f"{r:.2f}x floor")
                r = ratio(value, get(results[g].get("asio")))
                if r is not None:
                    extra.append(f"{r:.2f}x asio")
                if extra:
                    label += "  (" + ", ".join(extra) + ")"
            bars.append((impl, value, label))
        title = group_label(g) + ("  (B/conn: shorter is better)" if is_memory else "")
        panels.append((title, is_memory, bars))
    return panels


def write_chart(results, order, impls, path, fmt="svg"):
    """bench.svg / bench.png: one panel per workload (bench/chart.py)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chart  # noqa: E402 (next to this file)

    title = ("proact_bench: throughput per workload (longer is faster); "
             "proact's bars give their ratio to their backend's hand-written floor and to Asio")
    ok = chart.write(chart_panels(results, order, impls), path, fmt, title)
    if not ok:
        print(f"report: no {fmt} chart (PNG needs rsvg-convert: Debian librsvg2-bin)",
              file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", help="Google Benchmark JSON (--benchmark_out)")
    ap.add_argument("--out-dir", help="where to write the results (default: the JSON's directory)")
    ap.add_argument("--command", default="", help="the command that produced the JSON, for the Markdown")
    ap.add_argument("--chart-format", choices=("svg", "png", "both"), default="both",
                    help="the chart's format (both: bench.svg, and bench.png if rsvg-convert is there)")
    args = ap.parse_args()
    out_dir = args.out_dir or os.path.dirname(os.path.abspath(args.json))
    os.makedirs(out_dir, exist_ok=True)

    context, results, order = load(args.json)
    if not results:
        print(f"report: no benchmark results in {args.json}", file=sys.stderr)
        return 1
    impls = impl_order(results)
    targets = check_targets(results)
    machine = machine_lines(context)

    text = []
    md = ["# proact_bench results", ""]
    if args.command:
        md += [f"Command: `{args.command}`", ""]
    md += [f"- {line}" for line in machine] + [""]
    md += [
        "Throughput is items per second of wall-clock time (an item: a round trip, a packet, a",
        "connection, a read, a timer). `vs floor` and `vs asio` divide the proact figure by the",
        "hand-written loop's of the same backend and by Asio's, measured in the same run: above",
        "1.00x proact is faster (for idle_memory, below 1.00x it uses less).",
        "",
    ]
    text += machine + [""]
    # Two summaries, so that each stays readable: the raw port API beside the
    # floors and peers, then proact's loop (callbacks, coroutines) beside the
    # same floors and Asio.
    on_loop = [i for i in impls if is_proact(i) and not i.startswith(("proact-epoll", "proact-io_uring"))]
    port_impls = [i for i in impls if i not in on_loop]
    loop_impls = [i for i in impls if i.startswith("floor-") or i == "asio"] + on_loop
    for title, subset in (("Summary: the port API", port_impls), ("Summary: through the loop", loop_impls)):
        shown = [g for g in order if any(i in results[g] for i in subset if is_proact(i))]
        if not shown:
            continue
        header, rows = summary_matrix(results, shown, subset)
        md += [
            f"## {title}",
            "",
            "Throughput per second (idle_memory: RSS bytes per idle connection, lower is better).",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        md += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
        md.append("")
    md += ["## Each workload", ""]
    for g in order:
        rows = rows_for(g, dict(sorted(results[g].items(), key=lambda kv: impls.index(kv[0]))))
        header = list(HEADER)
        if g[0] in MEMORY:
            header[1], header[2] = "RSS per connection", ""
        text.append(group_label(g))
        text += ["  " + line for line in text_table(header, rows)]
        text.append("")
        md.append(f"### {group_label(g)}")
        md.append("")
        md.append("| " + " | ".join(header) + " |")
        md.append("|" + "---|" * len(header))
        for r in rows:
            md.append("| " + " | ".join(md_escape(c) for c in r) + " |")
        md.append("")

    text.append("Targets:")
    md += ["## Targets", "", "| target | result | details |", "|---|---|---|"]
    for name, status, detail in targets:
        text.append(f"  {status:4}  {name}: {detail}")
        md.append(f"| {md_escape(name)} | **{status}** | {md_escape(detail)} |")
    md.append("")

    txt_path = os.path.join(out_dir, "bench-results.txt")
    md_path = os.path.join(out_dir, "bench-results.md")
    formats = ("svg", "png") if args.chart_format == "both" else (args.chart_format,)
    charts = []
    with open(txt_path, "w", encoding="utf-8") as f:
        f.write("\n".join(text) + "\n")
    for fmt in formats:
        chart_path = os.path.join(out_dir, "bench." + fmt)
        if write_chart(results, order, impls, chart_path, fmt):
            charts.append(chart_path)
    if charts:
        md += ["## Chart", "", f"![throughput per workload, each implementation]"
               f"({os.path.basename(charts[0])})", ""]
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")

    print("\n".join(text))
    print()
    print(f"raw JSON:       {os.path.abspath(args.json)}")
    print(f"table (text):   {txt_path}")
    print(f"table (Markdown): {md_path}")
    print(f"chart:          {', '.join(charts) if charts else '(not written)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
